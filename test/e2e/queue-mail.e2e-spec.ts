import { createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import { poolOf } from '../../src/database/sql';
import { MAIL_QUEUE, MailService } from '../../src/mail/mail.service';
import { QueueService } from '../../src/queue/queue.service';
import { startTestApp, TestApp } from '../support/app';
import { connect } from '../support/database';
import { waitForMail } from '../support/mail';

// pg-boss's SQL builders (no typings): the test checks the plan of the very statement its workers send.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fetchNextJob } = require('pg-boss/src/plans') as {
  fetchNextJob: (schema: string) => (options: { includeMetadata: boolean; priority: boolean }) => string;
};

interface SmtpServer {
  port: number;
  /** Messages accepted (headers and body). */
  received: string[];
  /** MAIL FROM commands seen, refused or not. */
  attempts: () => number;
  close: () => Promise<void>;
}

/**
 * A minimal SMTP server: refuses the first `failures` mails with a temporary error (451), answers the end
 * of DATA after `delayMs`, or never when `hang` is set.
 */
async function smtpServer(options: { failures?: number; delayMs?: number; hang?: boolean } = {}): Promise<SmtpServer> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  let attempts = 0;
  const server: Server = createServer((socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let inData = false;
    let body = '';
    let buffered = '';
    socket.write('220 test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\r\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (inData) {
          if (line !== '.') {
            body += `${line}\n`;
            continue;
          }
          inData = false;
          if (options.hang) continue;
          const mail = body;
          setTimeout(() => {
            received.push(mail);
            socket.write('250 queued\r\n');
          }, options.delayMs ?? 0);
          continue;
        }
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO' || cmd === 'HELO') socket.write('250 test\r\n');
        else if (cmd === 'MAIL')
          socket.write(++attempts <= (options.failures ?? 0) ? '451 try again later\r\n' : '250 ok\r\n');
        else if (cmd === 'DATA') {
          inData = true;
          body = '';
          socket.write('354 go\r\n');
        } else if (cmd === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n'); // RCPT, RSET, NOOP
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    attempts: () => attempts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function mailJobs(db: Client): Promise<Array<{ to: string | null; state: string; retry_count: number }>> {
  const { rows } = await db.query(
    `SELECT data->>'to' AS "to", state, retry_count FROM pgboss.job WHERE name = $1 ORDER BY created_on`,
    [MAIL_QUEUE],
  );
  return rows;
}

/** Connections of the queue's pool still open on the app's database. */
async function queueConnections(db: Client): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kakao-auth-queue'`,
  );
  return (rows[0] as { n: number }).n;
}

const message = (to: string, link = 'https://app.example.com/#t=1') => ({
  to,
  template: 'email-verification' as const,
  vars: { name: '홍길동', link },
});

describe('job queue and mail', () => {
  describe('with the log transport', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { LOG_LEVEL: 'info' } });
    });
    afterAll(() => t.close());

    it('has its schema from a migration', async () => {
      const schema = await t.db.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = 'pgboss'`);
      expect(schema.rows).toHaveLength(1);
      const migration = await t.db.query(`SELECT 1 FROM schema_migrations WHERE name = 'JobQueue1763800000100'`);
      expect(migration.rows).toHaveLength(1);
      const version = await t.db.query(`SELECT version FROM pgboss.version`);
      expect(version.rows).toEqual([{ version: 24 }]);
    });

    it("fetches a queue's next job from an index, however many jobs wait", async () => {
      // A queue created after the migrations (its partition attached later), with a backlog no worker takes.
      const queue = 'fetch-order-check';
      await t.db.query(`SELECT pgboss.create_queue($1, '{"policy":"standard"}')`, [queue]);
      await t.db.query(`INSERT INTO pgboss.job (name, data) SELECT $1, '{}' FROM generate_series(1, 5000)`, [queue]);
      await t.db.query('ANALYZE pgboss.job');
      // pg-boss's own fetch statement, as its workers send it (one job, priority order).
      const fetchNext = fetchNextJob('pgboss')({ includeMetadata: true, priority: true })
        .replaceAll('$1', `'${queue}'`)
        .replaceAll('$2', '1');
      const plan = (await t.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${fetchNext}`)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      expect(plan).toMatch(/LockRows.*\n\s*->  Index Scan using \S+_name_priority_created_on_id_idx/);
      // Without the index: a sort of every waiting job by priority, then created_on and id.
      expect(plan).not.toMatch(/Sort Key: job\.priority/);
    });

    it('delivers a mail queued in a committed transaction, and never one from a rolled-back transaction', async () => {
      const mail = t.app.get(MailService);
      const dataSource = t.app.get(DataSource);
      await expect(
        dataSource.transaction(async (manager) => {
          await mail.queue(message('rolled-back@example.com', 'https://app.example.com/#t=rolled-back'), manager);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      const queuedAt = Date.now();
      await dataSource.transaction((manager) => mail.queue(message('committed@example.com'), manager));

      const sent = await waitForMail(t, { to: 'committed@example.com' });
      const latencyMs = Date.now() - queuedAt;
      expect(latencyMs).toBeLessThan(3_000); // polled every 0.5 s
      expect(sent).toEqual({
        to: 'committed@example.com',
        template: 'email-verification',
        subject: '이메일 주소를 확인해 주세요 / Please verify your email address',
        text: expect.stringContaining('홍길동님'),
        link: 'https://app.example.com/#t=1',
      });

      await t.app.get(QueueService).drained(MAIL_QUEUE);
      // Sent: the completed job no longer holds the address.
      expect(await mailJobs(t.db)).toEqual([{ to: null, state: 'completed', retry_count: 0 }]);
      await waitForMail(t, { to: 'committed@example.com' });
      expect(JSON.stringify(t.logs)).not.toContain('rolled-back');
    });

    it('sends a mail queued outside a transaction too', async () => {
      await t.app.get(MailService).queue({ to: 'direct@example.com', template: 'withdrawal-complete', vars: {} });
      const sent = await waitForMail(t, { to: 'direct@example.com', template: 'withdrawal-complete' });
      expect(sent.subject).toContain('Your account was deleted');
      expect(sent.link).toBeUndefined();
    });

    it('counts jobs in the metrics', async () => {
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/^queue_jobs_total\{queue="mail-send",outcome="completed"\} 2$/m);
      expect(metrics).toMatch(/^queue_job_duration_seconds_count\{queue="mail-send"\} 2$/m);
    });

    it('refuses what would lose or misdirect a job', async () => {
      await expect(t.app.get(MailService).queue(message('a@example.com, b@example.com'))).rejects.toThrow(
        'exactly one recipient',
      );
      // pg-boss would swallow a job for a queue that does not exist.
      await expect(t.app.get(QueueService).send('nobody-works-this', { x: 1 })).rejects.toThrow('does not exist');
    });
  });

  it('retries a mail the SMTP server refused, with backoff, until it is accepted; the log names no recipient', async () => {
    // Read what the service logs through Nest's Logger: nestjs-pino 5 keeps one root logger per process,
    // bound to the first app's stream, so `t.logs` of a second app in this file misses out-of-request lines.
    const logged = (['log', 'warn', 'error'] as const).map((level) => jest.spyOn(Logger.prototype, level));
    const smtp = await smtpServer({ failures: 2 });
    const t = await startTestApp({
      env: { MAIL_TRANSPORT: `smtp://127.0.0.1:${smtp.port}` },
      queue: { retryDelaySeconds: 1 },
    });
    try {
      const queuedAt = Date.now();
      await t.app.get(MailService).queue(message('retry@example.com', 'https://app.example.com/#t=secret-link'));
      await until(() => smtp.received.length > 0, 20_000, 'the mail to be accepted');
      // Backoff: the first retry 1-2 s after the first failure, the second 2-4 s after the second.
      expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(3_000);
      expect(smtp.attempts()).toBe(3);
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]).toContain('retry@example.com');
      expect(smtp.received[0]).toContain('secret-link'); // quoted-printable body
      await t.app.get(QueueService).drained(MAIL_QUEUE);
      expect(await mailJobs(t.db)).toEqual([{ to: null, state: 'completed', retry_count: 2 }]);

      const [, warn] = logged;
      const failures = warn.mock.calls.filter(([, msg]) => msg === 'Job failed; it will be retried');
      expect(failures.map(([fields]) => fields)).toEqual(
        [1, 2].map((attempt) => ({
          queue: MAIL_QUEUE,
          jobId: expect.any(String),
          attempt,
          attempts: 9,
          error: expect.objectContaining({
            responseCode: 451,
            message: expect.stringContaining('451 try again later'),
          }),
        })),
      );
      const everything = JSON.stringify(logged.map((spy) => spy.mock.calls));
      expect(everything).not.toContain('retry@example.com');
      expect(everything).not.toContain('secret-link');
    } finally {
      logged.forEach((spy) => spy.mockRestore());
      await t.close();
      await smtp.close();
    }
  }, 40_000);

  it('works through waiting jobs one after another, without sleeping its polling interval between them', async () => {
    // Only the first of these mails may wait for the worker's next poll; without the wake-up after each job,
    // ten would take nine more intervals (45 s) and `drained` would give up.
    const pollingIntervalSeconds = 5;
    const t = await startTestApp({ queue: { pollingIntervalSeconds } });
    try {
      const mail = t.app.get(MailService);
      for (let i = 0; i < 10; i++) await mail.queue(message(`batch-${i}@example.com`));
      await t.app.get(QueueService).drained(MAIL_QUEUE, 20_000);
      const { rows } = await t.db.query<{ n: number; completed: number; span: string }>(
        `SELECT count(*)::int AS n, (count(*) FILTER (WHERE state = 'completed'))::int AS completed,
                extract(epoch FROM max(started_on) - min(started_on)) AS span
         FROM pgboss.job WHERE name = $1`,
        [MAIL_QUEUE],
      );
      expect(rows[0]).toMatchObject({ n: 10, completed: 10 });
      expect(Number(rows[0].span)).toBeLessThan(pollingIntervalSeconds);
    } finally {
      await t.close();
    }
  }, 40_000);

  describe('giving way to requests', () => {
    /**
     * Three 3 s sleeps on a request pool of two connections: one query waits for a connection until the first
     * two end. Resolves with a function that tells whether it still waits, and the end of all three.
     */
    async function saturateRequestPool(t: TestApp): Promise<{ waiting: () => boolean; done: Promise<unknown> }> {
      const pool = poolOf(t.app.get(DataSource))!;
      const done = Promise.all([1, 2, 3].map(() => pool.query('SELECT pg_sleep(3)')));
      // Until both connections are open, all three wait.
      await until(() => pool.waitingCount === 1, 1_000, 'two sleeps running, one waiting');
      return { waiting: () => pool.waitingCount > 0, done };
    }

    const jobState = async (db: Client) => (await mailJobs(db)).map((j) => j.state);

    /** Seconds mail jobs waited for the instance, from /metrics. */
    async function deferredSeconds(t: TestApp): Promise<number> {
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      return Number(/^queue_job_deferred_seconds_total\{queue="mail-send"\} ([0-9.]+)$/m.exec(metrics)?.[1]);
    }

    it('a job waits while requests wait for a database connection, then runs', async () => {
      const t = await startTestApp({ env: { DB_POOL_SIZE: '2' }, queue: { maxDeferMs: 30_000 } });
      try {
        const pressure = await saturateRequestPool(t);
        await t.app.get(MailService).queue(message('patient@example.com'));
        // Once fetched, a mail would be sent within milliseconds; this one must still be waiting a second later.
        await until(async () => (await jobState(t.db))[0] === 'active', 2_000, 'the job to be fetched');
        await new Promise((r) => setTimeout(r, 1_000));
        expect(pressure.waiting()).toBe(true); // the premise: requests still wait
        expect(await jobState(t.db)).toEqual(['active']);

        await pressure.done;
        await t.app.get(QueueService).drained(MAIL_QUEUE);
        expect(await jobState(t.db)).toEqual(['completed']);
        expect(await deferredSeconds(t)).toBeGreaterThanOrEqual(1);
      } finally {
        await t.close();
      }
    }, 30_000);

    it('under pressure that lasts, a job runs anyway after maxDeferMs', async () => {
      const t = await startTestApp({ env: { DB_POOL_SIZE: '2' }, queue: { maxDeferMs: 300 } });
      try {
        const pressure = await saturateRequestPool(t);
        await t.app.get(MailService).queue(message('not-forever@example.com'));
        await until(async () => (await jobState(t.db))[0] === 'completed', 2_500, 'the job to complete');
        expect(pressure.waiting()).toBe(true);
        // It did wait, for its maxDeferMs (not at all would also complete it).
        expect(await deferredSeconds(t)).toBeGreaterThanOrEqual(0.3);
        await pressure.done;
      } finally {
        await t.close();
      }
    }, 30_000);
  });

  it('with QUEUE_WORKERS=false queues jobs and runs none; an instance with workers runs them', async () => {
    const requestsOnly = await startTestApp({ env: { QUEUE_WORKERS: 'false' } });
    let worker: TestApp | undefined;
    try {
      await requestsOnly.app.get(MailService).queue(message('later@example.com'));
      // Four polling intervals (0.5 s): a worker in this instance would have taken the job by now.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await mailJobs(requestsOnly.db)).toEqual([{ to: 'later@example.com', state: 'created', retry_count: 0 }]);

      worker = await startTestApp({ databaseUrl: requestsOnly.databaseUrl });
      await worker.app.get(QueueService).drained(MAIL_QUEUE);
      expect(await mailJobs(worker.db)).toEqual([{ to: null, state: 'completed', retry_count: 0 }]);
    } finally {
      await worker?.close();
      await requestsOnly.close();
    }
  });

  describe('app.close()', () => {
    it('lets a running job finish, then closes the queue connections', async () => {
      const smtp = await smtpServer({ delayMs: 700 });
      const t = await startTestApp({ env: { MAIL_TRANSPORT: `smtp://127.0.0.1:${smtp.port}` } });
      const db = await connect(t.databaseUrl);
      try {
        await t.app.get(MailService).queue(message('slow@example.com'));
        await until(() => smtp.attempts() > 0, 10_000, 'the mail to be sent');
        expect(await queueConnections(db)).toBeGreaterThan(0);
        const closing = Date.now();
        await t.close();
        expect(Date.now() - closing).toBeLessThan(5_000);
        expect(smtp.received).toHaveLength(1);
        expect(await mailJobs(db)).toEqual([{ to: null, state: 'completed', retry_count: 0 }]);
        await until(async () => (await queueConnections(db)) === 0, 2_000, 'the queue connections to close');
      } finally {
        await db.end();
        await smtp.close();
      }
    });

    it('does not wait longer than its timeout for a hung job, which is left to be retried', async () => {
      const smtp = await smtpServer({ hang: true });
      const t = await startTestApp({
        env: { MAIL_TRANSPORT: `smtp://127.0.0.1:${smtp.port}` },
        queue: { shutdownTimeoutMs: 1_000 },
      });
      const db = await connect(t.databaseUrl);
      try {
        await t.app.get(MailService).queue(message('hung@example.com'));
        await until(() => smtp.attempts() > 0, 10_000, 'the mail to be sent');
        const closing = Date.now();
        await t.close();
        expect(Date.now() - closing).toBeLessThan(3_000);
        expect(await mailJobs(db)).toEqual([{ to: 'hung@example.com', state: 'retry', retry_count: 0 }]);
        await until(async () => (await queueConnections(db)) === 0, 2_000, 'the queue connections to close');
      } finally {
        await db.end();
        // The hung send now fails, after the app closed: nothing may throw.
        await smtp.close();
        await new Promise((r) => setTimeout(r, 200));
      }
    });
  });
});
