import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InjectConfig } from '../config/config.module';
import type { AppConfig } from '../config/app-config';

// Any constant works; it only has to be the same for every instance of this service.
const MIGRATION_LOCK_KEY = 0x6b616b61; // "kaka"

/**
 * Applies pending migrations at start (unless DB_MIGRATIONS_RUN=false). Several instances may start at
 * once on one database, so the run is serialised with a PostgreSQL advisory lock: the second instance
 * waits, then finds nothing left to do.
 */
@Injectable()
export class DatabaseMigrator implements OnApplicationBootstrap {
  private readonly logger = new Logger(DatabaseMigrator.name);
  private migrated?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureMigrated();
  }

  /**
   * Resolves once this start's migrations are applied (or skipped). Components that need the schema at
   * bootstrap (the job queue) await it, whichever bootstrap hook Nest happens to run first.
   */
  ensureMigrated(): Promise<void> {
    this.migrated ??= this.config.db.migrationsRun ? this.migrate() : Promise.resolve();
    return this.migrated;
  }

  async migrate(): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const applied = await this.dataSource.runMigrations({ transaction: 'each' });
      if (applied.length > 0)
        this.logger.log(`Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
      await runner.release();
    }
  }
}
