import PgBoss from 'pg-boss';
import { MigrationInterface, QueryRunner } from 'typeorm';

export const QUEUE_SCHEMA = 'pgboss';

/**
 * The job queue's schema (pg-boss 10, schema version 24), created here so the schema only ever changes
 * through migrations: pg-boss starts with `migrate: false` and only checks that the version matches. The SQL
 * is pg-boss's own construction plan (`PgBoss.getConstructionPlans`); it carries BEGIN/COMMIT, which are
 * removed because the migration already runs in a transaction (its advisory lock and SET LOCALs stay).
 *
 * The plan is that of the installed pg-boss, so on a fresh database this creates the schema version of
 * whatever pg-boss is installed. A pg-boss upgrade that changes the schema therefore needs a migration that
 * runs `PgBoss.getMigrationPlans(QUEUE_SCHEMA, <old version>)` only when `pgboss.version` is older.
 */
export class JobQueue1763800000100 implements MigrationInterface {
  name = 'JobQueue1763800000100';

  async up(q: QueryRunner): Promise<void> {
    const plan = PgBoss.getConstructionPlans(QUEUE_SCHEMA)
      .replace(/^\s*BEGIN;/, '')
      .replace(/COMMIT;\s*$/, '');
    // A plan whose transaction could not be removed would commit this migration half-way: refuse it.
    if (/^\s*(BEGIN|COMMIT)\s*;/im.test(plan)) throw new Error('Unexpected pg-boss construction plan layout');
    await q.query(plan);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA ${QUEUE_SCHEMA} CASCADE`);
  }
}
