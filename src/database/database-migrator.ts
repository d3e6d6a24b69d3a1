import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, MigrationExecutor } from 'typeorm';
import { InjectConfig } from '../config/config.module';
import type { AppConfig } from '../config/app-config';

// Any constant works; it only has to be the same for every instance of this service.
const MIGRATION_LOCK_KEY = 0x6b616b61; // "kaka"

/**
 * Applies pending migrations at start (unless DB_MIGRATIONS_RUN=false). Several instances may start at
 * once on one database, so the run is serialised with a PostgreSQL advisory lock: the second instance
 * waits, then finds nothing left to do. With DB_MIGRATIONS_RUN=false a pending migration refuses the start:
 * the instance would pass its readiness check and then fail the requests that need the missing schema.
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
    this.migrated ??= this.config.db.migrationsRun ? this.migrate() : this.refuseIfPending();
    return this.migrated;
  }

  private async refuseIfPending(): Promise<void> {
    const pending = await new MigrationExecutor(this.dataSource).getPendingMigrations();
    if (pending.length === 0) return;
    throw new Error(
      `${pending.length} migration(s) pending (${pending.map((m) => m.name).join(', ')}) and DB_MIGRATIONS_RUN=false: ` +
        'apply them (npm run migration:run) or start with DB_MIGRATIONS_RUN=true',
    );
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
