import { DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { DemoController } from './demo.controller';

/**
 * The demo page at /demo (issue 11): a person walks every login flow in a browser against the emulator.
 * Mounted only where the demo is enabled (NODE_ENV=development, or DEMO_ENABLED=true); elsewhere nothing
 * of it exists and /demo is an unknown route like any other (404 NOT_FOUND in the error shape).
 */
@Module({})
export class DemoModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: DemoModule, controllers: config.http.demoEnabled ? [DemoController] : [] };
  }
}
