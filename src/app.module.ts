import { DynamicModule, Module, ModuleMetadata } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HttpExceptionFilter } from './common/errors/http-exception.filter';
import { AUTH_THROTTLER } from './common/rate-limit/rate-limit';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { SlidingWindowThrottlerStorage } from './common/rate-limit/sliding-window-storage';
import { AuditModule } from './audit/audit.module';
import { KakaoAuthModule } from './kakao-auth/kakao-auth.module';
import { MembersModule } from './members/members.module';
import { TermsModule } from './terms/terms.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { TokensModule } from './tokens/tokens.module';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo/demo.module';
import { HealthModule } from './health/health.module';
import { pinoParams } from './logging/logging';
import { MailModule } from './mail/mail.module';
import { MetricsModule } from './metrics/metrics.module';
import { QueueModule } from './queue/queue.module';
import type { QueueOptions } from './queue/queue.service';

export interface AppModuleOptions {
  /** Where logs go; stdout when absent. Tests pass a stream to read what was logged. */
  logStream?: DestinationStream;
  /** Extra modules mounted next to the application's own (tests use it for probe routes). */
  imports?: ModuleMetadata['imports'];
  /** Job queue tunables (tests shorten retry delays). */
  queue?: Partial<QueueOptions>;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(pinoParams(config, options.logStream)),
        ThrottlerModule.forRoot({
          storage: new SlidingWindowThrottlerStorage(),
          throttlers: [
            // Per client address. Wrong passwords are also limited per account (RateLimitModule).
            { name: AUTH_THROTTLER, ttl: 60_000, limit: config.rateLimit.authPerMinute },
          ],
        }),
        RateLimitModule,
        DatabaseModule,
        QueueModule.forRoot(options.queue),
        MailModule, // its worker runs in every instance, whichever feature modules queue mails
        MetricsModule,
        HealthModule,
        AuditModule,
        TokensModule,
        TermsModule,
        MembersModule,
        KakaoAuthModule,
        WebhooksModule,
        DemoModule.forRoot(config),
        ...(options.imports ?? []),
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
