import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRows } from './sql';

/** Any constant shared by every instance of this service ("khsk"): one instance sweeps at a time. */
const HOUSEKEEPING_LOCK_KEY = 0x6b68736b;
const EVERY_MS = 60 * 60_000;
const FIRST_RUN_AFTER_MS = 60_000;
const BATCH = 5_000;

/**
 * One-time artefacts (login transactions, tickets, mailed tokens) are useless once expired, and processed
 * webhook calls are kept a month for inspection. Without a sweep these tables only grow; each sweep
 * deletes in small batches so it never holds long locks.
 */
const SWEEPS: Array<{ table: string; where: string }> = [
  { table: 'login_transactions', where: `expires_at < now() - interval '1 day'` },
  { table: 'login_tickets', where: `expires_at < now() - interval '1 day'` },
  { table: 'link_tickets', where: `expires_at < now() - interval '1 day'` },
  { table: 'terms_tickets', where: `expires_at < now() - interval '1 day'` },
  { table: 'email_tokens', where: `expires_at < now() - interval '1 day'` },
  { table: 'webhook_inbox', where: `processed_at < now() - interval '30 days'` },
];

@Injectable()
export class Housekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Housekeeping.name);
  private timers: NodeJS.Timeout[] = [];

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onApplicationBootstrap(): void {
    const sweep = () => void this.run().catch((err: Error) => this.logger.warn(`Housekeeping failed: ${err.message}`));
    this.timers = [setTimeout(sweep, FIRST_RUN_AFTER_MS), setInterval(sweep, EVERY_MS)];
    for (const timer of this.timers) timer.unref();
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** One sweep; returns the rows deleted per table (nothing when another instance is sweeping). */
  async run(): Promise<Record<string, number>> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const deleted: Record<string, number> = {};
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        HOUSEKEEPING_LOCK_KEY,
      ])) as Array<{ locked: boolean }>;
      if (!locked) return deleted;
      try {
        for (const { table, where } of SWEEPS) {
          deleted[table] = 0;
          for (;;) {
            const rows = await queryRows(
              runner.manager,
              `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${where} LIMIT ${BATCH}) RETURNING 1`,
            );
            deleted[table] += rows.length;
            if (rows.length < BATCH) break;
          }
        }
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [HOUSEKEEPING_LOCK_KEY]);
      }
      const total = Object.values(deleted).reduce((a, b) => a + b, 0);
      if (total) this.logger.log({ deleted }, 'Housekeeping removed expired rows');
      return deleted;
    } finally {
      await runner.release();
    }
  }
}
