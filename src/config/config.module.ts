import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, configWarnings } from './app-config';
import type { AppConfig } from './app-config';

/** Logs, once per start, what the configuration accepts but should not rely on (a short client secret). */
@Injectable()
class ConfigWarnings implements OnApplicationBootstrap {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    const logger = new Logger('Config');
    for (const warning of configWarnings(this.config)) logger.warn(warning);
  }
}

/** Makes the configuration loaded at boot injectable everywhere as `@InjectConfig() config: AppConfig`. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }, ConfigWarnings],
      exports: [APP_CONFIG],
    };
  }
}

export const InjectConfig = () => Inject(APP_CONFIG);
