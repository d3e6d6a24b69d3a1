import type { Pool } from 'pg';
import type PgBoss from 'pg-boss';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- pg-boss exposes its SQL only through this module
const plans = require('pg-boss/src/plans') as {
  completeJobs(schema: string): string;
  failJobsById(schema: string): string;
};

/**
 * pg-boss's way to our pool.
 *
 * pg-boss reports a finished job (complete, or fail to retry it) without awaiting the statement. When the
 * database cannot be reached at that moment, the rejection has no handler, and Node ends the process on an
 * unhandled rejection: PostgreSQL crashing while a job finished took the whole instance down (seen in the
 * database-faults test). Those two statements are therefore caught and reported to `onLostReport`; the job
 * stays active until its expiry and pg-boss then retries it, as it does the jobs of a crashed instance (so
 * jobs must be idempotent anyway). Every other statement fails as usual, to pg-boss's own error handling.
 *
 * After `closed()` it answers nothing instead of throwing, like pg-boss's own pool after stop, for the same
 * reason: a report arriving late would otherwise be an unhandled rejection.
 */
export function pgBossDb(
  pool: Pick<Pool, 'query'>,
  schema: string,
  options: { closed: () => boolean; onLostReport: (err: unknown) => void },
): PgBoss.Db {
  const unawaited = new Set([plans.completeJobs(schema), plans.failJobsById(schema)]);
  return {
    executeSql: (text, values) => {
      if (options.closed()) return Promise.resolve(undefined as never);
      const result = pool.query(text, values);
      if (!unawaited.has(text)) return result;
      return result.catch((err: unknown) => {
        options.onLostReport(err);
        return undefined as never;
      });
    },
  };
}
