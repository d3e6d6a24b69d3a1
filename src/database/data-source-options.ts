import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { poolSettings } from './pool-settings';
import { TypeOrmNestLogger } from './typeorm-logger';

/**
 * One definition of how we talk to PostgreSQL, shared by the application and the TypeORM CLI, so the two
 * can never disagree. The schema is only ever changed by migrations.
 */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false, // run by DatabaseMigrator under an advisory lock, see there
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    entities: [__dirname + '/../**/*.entity.{js,ts}'],
    poolSize,
    extra: { ...poolSettings(poolSize), application_name: 'kakao-auth' },
    logging: ['error', 'warn', 'migration'],
    logger: new TypeOrmNestLogger(),
  };
}
