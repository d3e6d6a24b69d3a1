import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { AccessTokenGuard } from './access-token.guard';
import { AccessTokenService } from './access-token.service';
import { ServiceClientGuard } from './service-client.guard';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { TokensController } from './tokens.controller';

/** The service's own tokens: HS256 access JWTs, sessions with rotating refresh tokens, the global guard. */
@Module({
  imports: [JwtModule.register({})],
  controllers: [TokensController],
  providers: [
    AccessTokenService,
    SessionsRepository,
    SessionsService,
    ServiceClientGuard,
    { provide: APP_GUARD, useClass: AccessTokenGuard },
  ],
  exports: [AccessTokenService, SessionsService, ServiceClientGuard],
})
export class TokensModule {}
