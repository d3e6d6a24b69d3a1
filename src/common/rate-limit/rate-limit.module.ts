import { Global, Module } from '@nestjs/common';
import { AccountFailureLimiter } from './account-failures';

/** One count of failed passwords per account, shared by every route that takes a password. */
@Global()
@Module({ providers: [AccountFailureLimiter], exports: [AccountFailureLimiter] })
export class RateLimitModule {}
