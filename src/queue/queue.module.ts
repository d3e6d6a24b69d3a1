import { DynamicModule, Global, Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { InstanceLoad } from './instance-load';
import { QUEUE_OPTIONS, QueueOptions, QueueService } from './queue.service';

@Global()
@Module({})
export class QueueModule {
  static forRoot(options: Partial<QueueOptions> = {}): DynamicModule {
    return {
      module: QueueModule,
      imports: [DatabaseModule],
      providers: [{ provide: QUEUE_OPTIONS, useValue: options }, InstanceLoad, QueueService],
      exports: [QueueService, InstanceLoad],
    };
  }
}
