import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { Pool } from 'pg';
import PgBoss from 'pg-boss';
import { Counter, Histogram } from 'prom-client';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { DatabaseMigrator } from '../database/database-migrator';
import { poolSettings } from '../database/pool-settings';
import { QUEUE_SCHEMA } from '../database/migrations/1763800000100-job-queue';
import { queryRows } from '../database/sql';
import { loggableError } from '../logging/logging';
import { MetricsService } from '../metrics/metrics.service';
import { InstanceLoad, LOAD_SAMPLE_MS } from './instance-load';
import { pgBossDb } from './pg-boss-db';

/** Tunables of the queue, for every queue unless `work` says otherwise. Tests shorten the retry delay. */
export interface QueueOptions {
  /** Retries after the first attempt. */
  retryLimit: number;
  /** Delay before the first retry; doubled on each further retry (with jitter). */
  retryDelaySeconds: number;
  /** An attempt running longer is failed (and retried); also how long a crashed instance's jobs stay locked. */
  expireInSeconds: number;
  /** How often an idle worker looks for jobs (pg-boss 10 polls; 0.5 is its minimum). */
  pollingIntervalSeconds: number;
  /** How long `app.close()` lets running jobs finish; the rest are failed and retried by another start. */
  shutdownTimeoutMs: number;
  /** Connections of the queue's own pool (workers and maintenance; transactional sends use the caller's). */
  poolSize: number;
  /**
   * How long a fetched job waits for this instance to stop being busy with requests (see InstanceLoad)
   * before it runs anyway: under sustained load background work slows down to one job per this, not to none.
   */
  maxDeferMs: number;
}

export const QUEUE_OPTIONS = Symbol('QUEUE_OPTIONS');

export const QUEUE_DEFAULTS: QueueOptions = {
  retryLimit: 8, // with 2 s doubling: the last try 8-17 minutes after the first
  retryDelaySeconds: 2,
  expireInSeconds: 300,
  pollingIntervalSeconds: 0.5,
  shutdownTimeoutMs: 5_000,
  poolSize: 3,
  maxDeferMs: 2_000,
};

/** Any constant shared by every instance of this service ("kque"). */
const QUEUE_DECLARE_LOCK_KEY = 0x6b717565;

export interface SendOptions {
  /** A TypeORM manager inside a transaction: the job is inserted in it, so it exists if and only if that commits. */
  manager?: EntityManager;
  /**
   * Deduplication key. Only effective on queues whose policy says so (`short`: one queued job per key;
   * `singleton`: one running; `stately`: one of each), see `WorkOptions.policy`; a `standard` queue ignores it.
   */
  singletonKey?: string;
  /** Not before this time (a Date) or this many seconds from now (a number). */
  startAfter?: Date | number;
  retryLimit?: number;
}

export interface WorkOptions {
  retryLimit?: number;
  retryDelaySeconds?: number;
  expireInSeconds?: number;
  /** pg-boss queue policy; `standard` (the default) runs every job. */
  policy?: PgBoss.QueuePolicy;
  /** The job's data is personal (a mail's address): emptied once the job has succeeded. */
  personalData?: boolean;
}

/** Job as seen by a handler: id, name, data and its attempt bookkeeping. */
export type QueueJob<T> = PgBoss.JobWithMetadata<T>;
export type JobHandler<T> = (data: T, job: QueueJob<T>) => Promise<void>;

interface Registration {
  handler: JobHandler<never>;
  options: Required<Omit<WorkOptions, 'policy' | 'personalData'>> & {
    policy: PgBoss.QueuePolicy;
    personalData: boolean;
  };
}

/**
 * Durable jobs on PostgreSQL (pg-boss 10, schema `pgboss` created by a migration): retried with
 * exponential backoff, kept across restarts, and fetched with SKIP LOCKED so each runs once however many
 * instances share the database. Domain modules register handlers with `work` in `onModuleInit` and queue
 * jobs with `send`, preferably inside the transaction of the change that causes them.
 */
@Injectable()
export class QueueService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(QueueService.name);
  private readonly options: QueueOptions;
  private readonly runWorkers: boolean;
  private readonly pool: Pool;
  private readonly boss: PgBoss;
  private readonly registrations = new Map<string, Registration>();
  /** pg-boss's worker of each queue, to wake it. */
  private readonly workerIds = new Map<string, string>();
  private readonly jobsTotal?: Counter<'queue' | 'outcome'>;
  private readonly jobDuration?: Histogram<'queue'>;
  private readonly deferred?: Counter<'queue'>;
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  private poolClosed = false;

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly migrator: DatabaseMigrator,
    @Optional() @Inject(QUEUE_OPTIONS) options?: Partial<QueueOptions>,
    @Optional() metrics?: MetricsService,
    @Optional() private readonly load?: InstanceLoad,
  ) {
    this.options = { ...QUEUE_DEFAULTS, ...options };
    this.runWorkers = config.queueWorkers;
    // pg-boss gets our pool rather than its own so that stopping its workers (before the HTTP server and
    // TypeORM close) and closing the connections (after every request has finished) are separate steps.
    // Kept connections and keep-alive as the request pool's (see there): workers come in bursts too.
    this.pool = new Pool({
      connectionString: config.db.url,
      ...poolSettings(this.options.poolSize),
      application_name: 'kakao-auth-queue',
    });
    this.pool.on('error', (err) => this.logger.error({ error: loggableError(err) }, 'Job queue connection error'));
    const db = pgBossDb(this.pool, QUEUE_SCHEMA, {
      closed: () => this.poolClosed,
      onLostReport: (err) =>
        this.logger.warn(
          { error: loggableError(err) },
          'Job queue: a finished job could not be recorded; it is retried after its expiry',
        ),
    });
    this.boss = new PgBoss({
      db,
      schema: QUEUE_SCHEMA,
      // The schema belongs to our migrations (1763800000100-job-queue): pg-boss only checks its version.
      migrate: false,
      schedule: false, // no cron jobs; saves the timekeeper's polling
      supervise: true, // expires jobs of crashed instances, archives and deletes old jobs
      maintenanceIntervalSeconds: 120,
      retryLimit: this.options.retryLimit,
      retryDelay: this.options.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: this.options.expireInSeconds,
      pollingIntervalSeconds: this.options.pollingIntervalSeconds,
    });
    // Errors of pg-boss's own loops (maintenance, a lost connection); job failures are logged below.
    this.boss.on('error', (err) => this.logger.error({ error: loggableError(err) }, 'Job queue error'));

    if (metrics) {
      this.jobsTotal = new Counter({
        name: 'queue_jobs_total',
        help: 'Job attempts by queue and outcome (completed, retried, failed: no retry left)',
        labelNames: ['queue', 'outcome'] as const,
        registers: [metrics.registry],
      });
      this.jobDuration = new Histogram({
        name: 'queue_job_duration_seconds',
        help: 'Duration of job attempts by queue',
        labelNames: ['queue'] as const,
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [metrics.registry],
      });
      this.deferred = new Counter({
        name: 'queue_job_deferred_seconds_total',
        help: 'Time fetched jobs waited for the instance to be less busy with requests, by queue',
        labelNames: ['queue'] as const,
        registers: [metrics.registry],
      });
    }
  }

  /**
   * Registers the handler of a queue. Domain modules call it from `onModuleInit`; the queue is created and
   * its worker started once pg-boss has started. A handler that throws has its job retried with backoff.
   */
  work<T>(queue: string, handler: JobHandler<T>, options: WorkOptions = {}): void {
    if (this.state !== 'new') throw new Error(`Queue ${queue} registered after the job queue started`);
    if (this.registrations.has(queue)) throw new Error(`Queue ${queue} already has a handler`);
    this.registrations.set(queue, {
      handler,
      options: {
        retryLimit: options.retryLimit ?? this.options.retryLimit,
        retryDelaySeconds: options.retryDelaySeconds ?? this.options.retryDelaySeconds,
        expireInSeconds: options.expireInSeconds ?? this.options.expireInSeconds,
        policy: options.policy ?? 'standard',
        personalData: options.personalData ?? false,
      },
    });
  }

  /**
   * Queues a job and returns its id. With `manager` the insert runs in that transaction: a rollback leaves no
   * job, a commit always has its job. Returns null only when a policy queue deduplicated it (`singletonKey`).
   */
  async send<T extends object>(queue: string, data: T, options: SendOptions = {}): Promise<string | null> {
    const { manager, ...rest } = options;
    if (!manager && this.poolClosed) throw new Error(`Job queue closed: cannot queue a ${queue} job`);
    const db: PgBoss.Db | undefined = manager && {
      executeSql: async (text, values) => ({ rows: await queryRows(manager, text, values) }),
    };
    const id = await this.boss.send(queue, data, { ...rest, ...(db ? { db } : {}) });
    // pg-boss inserts through a join on its queue table: a queue nobody created swallows the job silently.
    const policy = this.registrations.get(queue)?.options.policy ?? 'standard';
    if (id === null && policy === 'standard') {
      throw new Error(`Job not queued: queue ${queue} does not exist (no worker registered it with work())`);
    }
    return id;
  }

  private announceStarted!: () => void;
  /**
   * Resolves once pg-boss runs and jobs can be sent outside a request (e.g. work found at start). Never awaited
   * inside a bootstrap hook: that hook may run before the queue's own.
   */
  readonly started = new Promise<void>((resolve) => (this.announceStarted = resolve));

  /** Resolves once no job of `queue` is waiting, retrying or running (tests); rejects after `timeoutMs`. */
  async drained(queue: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.boss.getQueueSize(queue, { before: 'completed' })) > 0) {
      if (Date.now() > deadline) throw new Error(`Queue ${queue} not drained within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    // The schema comes from the migrations, which DatabaseMigrator runs in its own bootstrap hook.
    await this.migrator.ensureMigrated();
    this.state = 'starting';
    try {
      await this.boss.start();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.state = 'stopped';
      this.poolClosed = true;
      await this.pool.end();
      throw new Error(
        `The job queue cannot start (${reason}): apply the migrations (npm run migration:run) or start with DB_MIGRATIONS_RUN=true`,
      );
    }
    this.state = 'started';
    await this.declareQueues();
    // Without workers the queues are still declared: this instance's sends must not be dropped.
    for (const [queue, { handler }] of this.runWorkers ? this.registrations : []) {
      const workerId = await this.boss.work<never>(
        queue,
        { pollingIntervalSeconds: this.options.pollingIntervalSeconds, batchSize: 1, includeMetadata: true },
        async ([job]) => {
          try {
            await this.giveWay(queue);
            await this.run(queue, handler, job);
          } finally {
            // pg-boss 10 sleeps a polling interval after every fetch, a job found or not: one job per interval
            // (2/s), and a storm of webhook calls would take hours to apply. Found one: look for the next now.
            // (A failed job waits for its retry delay, so this never spins on one job.)
            const id = this.workerIds.get(queue);
            if (id) this.boss.notifyWorker(id);
          }
        },
      );
      this.workerIds.set(queue, workerId);
    }
    // After the loop: a job sent to a queue not created yet would be dropped by pg-boss.
    this.announceStarted();
  }

  /**
   * Creates (or updates) every registered queue. Instances starting together on one database would
   * deadlock in pg-boss's DDL, so declaring is serialised with an advisory lock, as migrations are.
   */
  private async declareQueues(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [QUEUE_DECLARE_LOCK_KEY]);
      for (const [queue, { options }] of this.registrations) {
        const settings: PgBoss.Queue = {
          name: queue,
          policy: options.policy,
          retryLimit: options.retryLimit,
          retryDelay: options.retryDelaySeconds,
          retryBackoff: true,
          expireInSeconds: options.expireInSeconds,
        };
        // createQueue leaves an existing queue as it is; updateQueue applies changed settings to it.
        await this.boss.createQueue(queue, settings);
        await this.boss.updateQueue(queue, settings);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [QUEUE_DECLARE_LOCK_KEY]).catch(() => undefined);
      client.release();
    }
  }

  /**
   * Background work gives way to requests: a job waits while requests queue for a database connection or
   * the event loop is saturated, up to maxDeferMs. Jobs share the request pool and the core, and a burst
   * that queues jobs (a webhook storm) is exactly when applying them would slow every request down.
   */
  private async giveWay(queue: string): Promise<void> {
    if (!this.load?.busy()) return;
    const started = performance.now();
    const deadline = started + this.options.maxDeferMs;
    while (this.state === 'started' && performance.now() < deadline && this.load.busy()) {
      await new Promise((resolve) => setTimeout(resolve, LOAD_SAMPLE_MS));
    }
    this.deferred?.inc({ queue }, (performance.now() - started) / 1000);
  }

  private async run(queue: string, handler: JobHandler<never>, job: QueueJob<never>): Promise<void> {
    const endTimer = this.jobDuration?.startTimer({ queue });
    try {
      await handler(job.data, job);
      this.jobsTotal?.inc({ queue, outcome: 'completed' });
      if (this.registrations.get(queue)?.options.personalData) {
        // Done with it: a completed job keeps no address or link until pg-boss archives and deletes it.
        await this.pool.query(`UPDATE ${QUEUE_SCHEMA}.job SET data = '{}'::jsonb WHERE name = $1 AND id = $2`, [
          queue,
          job.id,
        ]);
      }
    } catch (err) {
      // Never the job's data: it may hold personal data or links with tokens. Ids and attempts only.
      const last = job.retryCount >= job.retryLimit;
      const fields = {
        queue,
        jobId: job.id,
        attempt: job.retryCount + 1,
        attempts: job.retryLimit + 1,
        error: loggableError(err),
      };
      if (last) this.logger.error(fields, 'Job failed; no retry left');
      else this.logger.warn(fields, 'Job failed; it will be retried');
      this.jobsTotal?.inc({ queue, outcome: last ? 'failed' : 'retried' });
      throw err;
    } finally {
      endTimer?.();
    }
  }

  /**
   * Stops fetching and lets running jobs finish (bounded by shutdownTimeoutMs; pg-boss fails the rest, to be
   * retried), while the database, TypeORM included, is still open for them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.state !== 'started') return;
    this.state = 'stopped';
    await this.boss.stop({ graceful: true, wait: true, timeout: this.options.shutdownTimeoutMs });
  }

  /** Closes the queue's connections once requests (which may still queue jobs) are finished. */
  async onApplicationShutdown(): Promise<void> {
    await this.beforeApplicationShutdown(); // when Nest skipped it
    if (this.poolClosed) return;
    this.poolClosed = true;
    await this.pool.end();
  }
}
