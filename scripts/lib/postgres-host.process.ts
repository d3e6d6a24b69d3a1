/** The process `startDetachedPostgres` forks: starts the server, reports, and stops it when asked or orphaned. */
import { startEmbeddedPostgres } from './embedded-postgres';
import type { PostgresHostMessage, PostgresHostOptions } from './postgres-host';

async function host(options: PostgresHostOptions): Promise<void> {
  const send = (message: PostgresHostMessage) => process.send?.(message);
  let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
  try {
    pg = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.port, persistent: true });
    if (!(await pg.databaseExists(options.database))) await pg.createDatabase(options.database);
  } catch (err) {
    send({ ready: false, error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= pg.stop().finally(() => process.exit(0)));
  process.on('message', (message) => message === 'stop' && void stop());
  // The dev process died without asking (kill -9, a crash): do not leave a server behind.
  process.on('disconnect', () => void stop());
  send({ ready: true, url: pg.url('').replace(/\/$/, '') });
}

void host(JSON.parse(process.argv[2]) as PostgresHostOptions);
