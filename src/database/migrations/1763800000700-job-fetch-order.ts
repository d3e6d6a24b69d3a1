import { MigrationInterface, QueryRunner } from 'typeorm';
import { QUEUE_SCHEMA } from './1763800000100-job-queue';

/**
 * pg-boss 10 fetches a queue's next job with `ORDER BY priority DESC, created_on, id LIMIT n FOR UPDATE SKIP
 * LOCKED`, and none of its own indexes has that order: every fetch read and sorted all the waiting jobs of
 * the queue (124 ms with 45,000 webhook calls waiting, the sort spilling to disk), so a backlog slowed its
 * own draining. An index on the partitioned parent is created on every queue's partition, present and
 * future (pg-boss attaches a partition per queue), and a fetch reads its first rows.
 */
export class JobFetchOrder1763800000700 implements MigrationInterface {
  name = 'JobFetchOrder1763800000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX job_fetch_order ON ${QUEUE_SCHEMA}.job (name, priority DESC, created_on, id) WHERE state < 'active'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ${QUEUE_SCHEMA}.job_fetch_order`);
  }
}
