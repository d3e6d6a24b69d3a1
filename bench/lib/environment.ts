/**
 * Starts everything a run needs: PostgreSQL (embedded, seeded), the Kakao emulator, the production-built
 * service and the baseline, each as its own process with the service and the baseline on one core.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres';
import { freePort } from '../../scripts/lib/ports';
import { loginPersonas, seed } from './fixtures';
import { Child, LOAD_CORE, postmasterPid, SERVER_CORE, startNode, waitForHttp } from './proc';

export const DIST = path.resolve(__dirname, '..', '..');
/**
 * The service's entry point: this checkout's production build, or another build given with `--service=` /
 * BENCH_SERVICE_ENTRY (a candidate fix compiled elsewhere, measured against the same baseline).
 */
const serviceArg = process.argv.find((a) => a.startsWith('--service='))?.slice('--service='.length);
export const SERVICE_ENTRY = path.resolve(
  serviceArg ?? process.env.BENCH_SERVICE_ENTRY ?? path.join(DIST, 'src', 'main.js'),
);
export const BASELINE_ENTRY = path.join(DIST, 'bench', 'baseline', 'server.js');
export const EMULATOR_ENTRY = path.join(DIST, 'emulator', 'main.js');

export const DATABASE = 'kakao_auth_bench';
export const APP_ID = '1000001';
export const REST_API_KEY = 'bench-rest-api-key';
export const HYBRID_REDIRECT = 'https://app.bench.example/kakao/callback';
export const SERVICE_CLIENT = { name: 'bench', secret: randomBytes(24).toString('base64url') };
/** The baseline's copies of the service's webhook tables and its own job queue, which no worker reads. */
export const BASELINE_WEBHOOK = {
  inbox: 'bench_baseline_webhook_inbox',
  unlinks: 'bench_baseline_kakao_unlinks',
  queue: 'bench-baseline-webhook',
};

export interface Secrets {
  jwtSecret: string;
  tokenEncryptionKey: string;
  adminKey: string;
  clientSecret: string;
}

export interface Stack {
  workDir: string;
  pg: EmbeddedPostgresHandle;
  pgDataDir: string;
  pgPid: () => number | undefined;
  databaseUrl: string;
  emulator: Child;
  emulatorUrl: string;
  service: Child;
  serviceUrl: string;
  servicePort: number;
  serviceEnv: NodeJS.ProcessEnv;
  baseline: Child;
  baselineUrl: string;
  secrets: Secrets;
  seedSeconds: Record<string, number>;
  /** Stops the service and starts it again on the same port with these variables changed. */
  restartService(changes: NodeJS.ProcessEnv): Promise<void>;
  stop(): Promise<void>;
}

export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // npm's variables (npm_lifecycle_event=bench…) are not the service's configuration.
  for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
  delete env.NODE_OPTIONS;
  return env;
}

export function serviceEnvironment(
  port: number,
  databaseUrl: string,
  emulatorUrl: string,
  secrets: Secrets,
): NodeJS.ProcessEnv {
  const publicUrl = `http://127.0.0.1:${port}`;
  return {
    ...cleanEnv(),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: publicUrl,
    // Fixed, so tokens minted for one instance verify on another (cold start, profiles) whatever its port.
    JWT_ISSUER: 'http://kakao-auth.bench',
    DATABASE_URL: databaseUrl,
    JWT_SECRET: secrets.jwtSecret,
    TOKEN_ENCRYPTION_KEY: secrets.tokenEncryptionKey,
    KAKAO_REST_API_KEY: REST_API_KEY,
    KAKAO_CLIENT_SECRET: secrets.clientSecret,
    KAKAO_ADMIN_KEY: secrets.adminKey,
    KAKAO_APP_ID: APP_ID,
    KAKAO_REDIRECT_URI: `${publicUrl}/auth/kakao/callback`,
    KAKAO_AUTH_BASE_URL: emulatorUrl,
    KAKAO_API_BASE_URL: emulatorUrl,
    ALLOWED_CODE_REDIRECT_URIS: HYBRID_REDIRECT,
    ALLOWED_RETURN_URLS: 'https://app.bench.example/',
    SERVICE_CLIENTS: `${SERVICE_CLIENT.name}:${SERVICE_CLIENT.secret}`,
    // The per-IP limit of /auth/refresh and /auth/kakao/code would stop a load test from one address; the
    // throttler itself still runs on every request.
    RATE_LIMIT_AUTH_PER_MINUTE: '1000000000',
    MAIL_TRANSPORT: 'log',
  };
}

/**
 * `beforeBaseline` runs once the service is up and seeded, and returns extra baseline variables (the runner
 * uses it to see which Kakao calls the service makes per login, so the baseline makes the same ones).
 */
export async function startStack(
  workDir: string,
  log: (line: string) => void,
  beforeBaseline: (ctx: { serviceUrl: string; emulatorUrl: string }) => Promise<Record<string, string>>,
): Promise<Stack> {
  mkdirSync(workDir, { recursive: true });
  const secrets: Secrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    tokenEncryptionKey: randomBytes(32).toString('base64'),
    adminKey: randomBytes(16).toString('hex'),
    clientSecret: randomBytes(16).toString('hex'),
  };

  // PostgreSQL inherits this process's core (the load core): the server core runs only the server under test.
  const pgDataDir = path.join(workDir, 'pgdata');
  log('Starting PostgreSQL (embedded-postgres, fsync off)…');
  // persistent: a non-persistent server deletes its data directory on stop, and it is restarted once below;
  // the runner deletes the whole work directory at the end.
  const pg = await startEmbeddedPostgres({ dataDir: pgDataDir, persistent: true, fast: true });
  // pg_stat_statements counts the statements (database round trips) of each request.
  await withClient(pg.url(), (c) => c.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`));
  await pg.stop();
  await pg.start();
  await pg.createDatabase(DATABASE);
  const databaseUrl = pg.url(DATABASE);
  await withClient(databaseUrl, (c) => c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'));

  const personasFile = path.join(workDir, 'personas.json');
  writeFileSync(personasFile, JSON.stringify(loginPersonas()));
  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const servicePort = await freePort();
  const baselinePort = await freePort();
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  const baselineUrl = `http://127.0.0.1:${baselinePort}`;

  log('Starting the Kakao emulator…');
  const emulator = startNode([EMULATOR_ENTRY], {
    name: 'emulator',
    core: LOAD_CORE,
    env: {
      ...cleanEnv(),
      EMULATOR_PORT: String(emulatorPort),
      KAKAO_REST_API_KEY: REST_API_KEY,
      KAKAO_CLIENT_SECRET: secrets.clientSecret,
      KAKAO_ADMIN_KEY: secrets.adminKey,
      KAKAO_APP_ID: APP_ID,
      EMULATOR_REDIRECT_URIS: `${serviceUrl}/auth/kakao/callback,${HYBRID_REDIRECT}`,
      EMULATOR_PERSONAS_FILE: personasFile,
    },
  });
  await waitForHttp(`${emulatorUrl}/__emulator`, 30_000, emulator);

  log('Starting the service (NODE_ENV=production, LOG_LEVEL=warn; it applies the migrations)…');
  // The scenarios compare request paths, and the baseline runs no background jobs: the service's workers
  // (which apply webhook calls, send mails) are started for the storm and the soak (`restartService`).
  const serviceEnv = { ...serviceEnvironment(servicePort, databaseUrl, emulatorUrl, secrets), QUEUE_WORKERS: 'false' };
  const service = startNode([SERVICE_ENTRY], { name: 'service', core: SERVER_CORE, env: serviceEnv });
  await waitForHttp(`${serviceUrl}/health/ready`, 60_000, service);

  log('Seeding 100,000 members and 1,000,000 refresh tokens…');
  const seedSeconds = await seed(databaseUrl, log);
  await withClient(databaseUrl, async (c) => {
    await c.query(`CREATE TABLE ${BASELINE_WEBHOOK.inbox} (LIKE webhook_inbox INCLUDING ALL)`);
    await c.query(`CREATE TABLE ${BASELINE_WEBHOOK.unlinks} (LIKE kakao_unlinks INCLUDING ALL)`);
    await c.query(`SELECT pgboss.create_queue($1, $2)`, [BASELINE_WEBHOOK.queue, JSON.stringify({ policy: 'short' })]);
  });

  const extra = await beforeBaseline({ serviceUrl, emulatorUrl });
  log('Starting the baseline (Fastify + pg)…');
  const baseline = startNode([BASELINE_ENTRY], {
    name: 'baseline',
    core: SERVER_CORE,
    env: {
      ...serviceEnv,
      PORT: String(baselinePort),
      BASELINE_WEBHOOK_INBOX: BASELINE_WEBHOOK.inbox,
      BASELINE_WEBHOOK_UNLINKS: BASELINE_WEBHOOK.unlinks,
      BASELINE_WEBHOOK_QUEUE: BASELINE_WEBHOOK.queue,
      ...extra,
    },
  });
  await waitForHttp(`${baselineUrl}/health/ready`, 30_000, baseline);

  const stack: Stack = {
    workDir,
    pg,
    pgDataDir,
    pgPid: () => postmasterPid(pgDataDir),
    databaseUrl,
    emulator,
    emulatorUrl,
    service,
    serviceUrl,
    servicePort,
    serviceEnv,
    baseline,
    baselineUrl,
    secrets,
    seedSeconds,
    async restartService(changes) {
      await stack.service.stop();
      stack.serviceEnv = { ...stack.serviceEnv, ...changes };
      stack.service = startNode([SERVICE_ENTRY], { name: 'service', core: SERVER_CORE, env: stack.serviceEnv });
      await waitForHttp(`${serviceUrl}/health/ready`, 60_000, stack.service);
    },
    async stop() {
      await Promise.allSettled([stack.service.stop(), baseline.stop(), emulator.stop()]);
      await pg.stop().catch(() => undefined);
    },
  };
  return stack;
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
