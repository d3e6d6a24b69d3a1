import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { DatabaseMigrator } from '../database/database-migrator';
import { QUEUE_SCHEMA } from '../database/migrations/1763800000100-job-queue';
import { queryRows } from '../database/sql';

/** Tunables of the queue; tests shorten the retry delay. */
export interface QueueOptions {
  retryLimit: number;
  retryDelaySeconds: number;
  pollingIntervalSeconds: number;
}

export const QUEUE_OPTIONS = Symbol('QUEUE_OPTIONS');

const DEFAULTS: QueueOptions = { retryLimit: 8, retryDelaySeconds: 2, pollingIntervalSeconds: 0.5 };

export interface SendOptions {
  /** A TypeORM manager inside a transaction: the job is inserted in it, so it exists if and only if that commits. */
  manager?: EntityManager;
  /** At most one job with this key is queued or running (webhook deduplication). */
  singletonKey?: string;
  startAfter?: Date | number;
  retryLimit?: number;
}

type Handler<T> = (data: T, job: PgBoss.Job<T>) => Promise<void>;

/**
 * Durable jobs on PostgreSQL (pg-boss): retried with exponential backoff, kept across restarts, and
 * fetched with SKIP LOCKED so each runs once however many instances share the database.
 */
@Injectable()
export class QueueService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(QueueService.name);
  private readonly boss: PgBoss;
  private readonly options: QueueOptions;
  private readonly handlers = new Map<string, Handler<never>>();
  private started = false;

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly migrator: DatabaseMigrator,
    @Optional() @Inject(QUEUE_OPTIONS) options?: Partial<QueueOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.boss = new PgBoss({
      connectionString: config.db.url,
      schema: QUEUE_SCHEMA,
      max: 3,
      // The schema belongs to our migrations (1763800000100-job-queue).
      migrate: false,
      schedule: false,
      supervise: true,
      retryLimit: this.options.retryLimit,
      retryDelay: this.options.retryDelaySeconds,
      retryBackoff: true,
      application_name: 'kakao-auth-queue',
    });
    // Errors of pg-boss's own loops (a lost connection); jobs report their failures through retries.
    this.boss.on('error', (err) => this.logger.error({ error: err.message }, 'Job queue error'));
  }

  /** Registers the handler of a queue; domain modules call it from onModuleInit. */
  work<T>(queue: string, handler: Handler<T>): void {
    if (this.started) throw new Error(`Queue ${queue} registered after the queue started`);
    this.handlers.set(queue, handler);
  }

  async send<T extends object>(queue: string, data: T, options: SendOptions = {}): Promise<string | null> {
    const { manager, ...rest } = options;
    const db = manager && {
      executeSql: async (text: string, values: unknown[]) => ({ rows: await queryRows(manager, text, values) }),
    };
    return this.boss.send(queue, data, { ...rest, ...(db ? { db } : {}) });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.migrator.ensureMigrated();
    try {
      await this.boss.start();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(
        `The job queue cannot start (${reason}): apply the migrations (npm run migration:run) or start with DB_MIGRATIONS_RUN=true`,
      );
    }
    this.started = true;
    for (const [queue, handler] of this.handlers) {
      await this.boss.createQueue(queue, {
        name: queue,
        retryLimit: this.options.retryLimit,
        retryDelay: this.options.retryDelaySeconds,
        retryBackoff: true,
      });
      await this.boss.work<never>(
        queue,
        { pollingIntervalSeconds: this.options.pollingIntervalSeconds, batchSize: 1 },
        async ([job]) => {
          try {
            await handler(job.data, job);
          } catch (err) {
            // Job data may hold personal data or links with tokens: only ids reach the log.
            this.logger.warn(
              { queue, jobId: job.id, error: err instanceof Error ? err.message : 'unknown' },
              'Job failed; it will be retried',
            );
            throw err;
          }
        },
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.started) return;
    // Lets running jobs finish (bounded), then closes pg-boss's pool.
    await this.boss.stop({ graceful: true, wait: true, timeout: 5_000 });
  }
}
