import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, Observable, throwError } from 'rxjs';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';
import { AppException } from '../errors';
import { accountTracker } from './rate-limit';
import { SlidingWindowThrottlerStorage } from './sliding-window-storage';

/**
 * Two windows: the minute (RATE_LIMIT_ACCOUNT_FAILURES_PER_MINUTE, then a minute's lock) and the hour (four
 * times that, then half an hour's lock: a lock ends with a fresh count), so that a guesser pacing just under
 * the minute's limit still gets fewer than 100 tries an hour (ASVS 2.2.1); with the default, about 80.
 */
const WINDOWS = [
  { name: 'account-failures', ttlMs: 60_000, factor: 1, blockMs: 60_000 },
  { name: 'account-failures-hour', ttlMs: 3_600_000, factor: 4, blockMs: 1_800_000 },
] as const;

/**
 * Wrong passwords per account (its normalised email), however many addresses they come from: past
 * RATE_LIMIT_ACCOUNT_FAILURES_PER_MINUTE in a minute the account takes no password for a minute, right or
 * wrong, so guessing cannot go on and a right guess is not told apart. Only failures count: a member who
 * signs in often (or a test suite) is never locked out by their own successes. An unknown email is counted
 * the same way, so the lock says nothing about which accounts exist.
 */
@Injectable()
export class AccountFailureLimiter {
  private readonly storage = new SlidingWindowThrottlerStorage();

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  /** Seconds the account stays locked, 0 when it is not. */
  lockedFor(account: string): number {
    return Math.max(...WINDOWS.map((w) => this.storage.blockedFor(account, w.name)));
  }

  recordFailure(account: string): void {
    const perMinute = this.config.rateLimit.accountFailuresPerMinute;
    // Counted before increment returns (the storage's promise only wraps the result): the next attempt sees it.
    for (const w of WINDOWS) void this.storage.increment(account, w.ttlMs, perMinute * w.factor, w.blockMs, w.name);
  }
}

/** Applies AccountFailureLimiter to a route whose body names an account (`email`) and a password. */
@Injectable()
export class AccountFailureInterceptor implements NestInterceptor {
  constructor(private readonly limiter: AccountFailureLimiter) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const account = accountTracker(context.switchToHttp().getRequest<FastifyRequest>());
    if (account === undefined) return next.handle();
    const locked = this.limiter.lockedFor(account);
    if (locked) {
      void context.switchToHttp().getResponse<FastifyReply>().header('retry-after', String(locked));
      throw new AppException('RATE_LIMITED', 'Too many failed attempts for this account, try again later');
    }
    return next.handle().pipe(
      catchError((err: unknown) => {
        if (err instanceof AppException && err.code === 'INVALID_CREDENTIALS') this.limiter.recordFailure(account);
        return throwError(() => err);
      }),
    );
  }
}

export function LimitFailuresPerAccount() {
  return applyDecorators(UseInterceptors(AccountFailureInterceptor));
}
