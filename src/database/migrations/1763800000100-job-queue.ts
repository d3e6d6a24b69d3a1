import PgBoss from 'pg-boss';
import { MigrationInterface, QueryRunner } from 'typeorm';

export const QUEUE_SCHEMA = 'pgboss';

/**
 * The job queue's schema (pg-boss 10, schema version 24), created here so the schema only ever changes
 * through migrations; pg-boss starts with `migrate: false` and checks the version. pg-boss's own plan
 * carries BEGIN/COMMIT; the migration already runs in a transaction, so they are removed. A pg-boss
 * upgrade that changes its schema needs a migration running `PgBoss.getMigrationPlans`.
 */
export class JobQueue1763800000100 implements MigrationInterface {
  name = 'JobQueue1763800000100';

  async up(q: QueryRunner): Promise<void> {
    const plan = PgBoss.getConstructionPlans(QUEUE_SCHEMA)
      .replace(/^\s*BEGIN;/, '')
      .replace(/COMMIT;\s*$/, '');
    await q.query(plan);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA ${QUEUE_SCHEMA} CASCADE`);
  }
}
