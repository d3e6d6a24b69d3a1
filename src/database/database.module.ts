import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { DatabaseMigrator } from './database-migrator';
import { Housekeeping } from './housekeeping';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.db.url, config.db.poolSize),
        autoLoadEntities: true,
        entities: [],
        // A database still starting (compose, k8s) gets ~10 s; after boot the pool reconnects by itself.
        retryAttempts: 5,
        retryDelay: 2000,
      }),
    }),
  ],
  providers: [DatabaseMigrator, Housekeeping],
  exports: [DatabaseMigrator],
})
export class DatabaseModule {}
