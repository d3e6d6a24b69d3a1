/** The process `startDetachedPostgres` forks: starts the server, reports, and stops it when asked or orphaned. */
import { Client } from 'pg';
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
  const stop = (afterClients: boolean) =>
    (stopping ??= (afterClients ? clientsGone(pg.url('postgres')) : Promise.resolve())
      .then(() => pg.stop())
      .finally(() => process.exit(0)));
  process.on('message', (message) => message === 'stop' && void stop(true));
  // The dev process died without asking (kill -9, a crash): do not leave a server behind.
  process.on('disconnect', () => void stop(false));
  send({ ready: true, url: pg.url('').replace(/\/$/, '') });
}

/**
 * Waits (a few seconds at most) until no other client is connected. The service has closed its pools when it
 * asks for the stop, but a pool's end does not wait for the server to see each connection go: stopped at once
 * (embedded-postgres stops it "fast"), the server could still terminate one of them, which the service logs
 * as an error (57P01).
 */
async function clientsGone(url: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      if (rows[0].n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch {
    // Whatever the check ran into, stopping the server is still the thing to do.
  } finally {
    await client.end().catch(() => undefined);
  }
}

void host(JSON.parse(process.argv[2]) as PostgresHostOptions);
