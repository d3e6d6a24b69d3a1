import { Client, DatabaseError } from 'pg';

/** Failures a database still starting (compose, Kubernetes) gives, which a later attempt may not. */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', '57P03']);

/** Where DATABASE_URL points, without its credentials: what a message may show. */
export function databaseLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * Connects once to the database before the app is built, so that a wrong DATABASE_URL (password, database
 * name, host) ends the start with one line naming it rather than TypeORM's retries and Nest's stack traces.
 * A database still starting is waited for (`attempts` × `delayMs`, ~10 s by default); a refusal that no
 * retry changes (authentication, an unknown database) fails at once.
 */
export async function waitForDatabase(
  url: string,
  options: { attempts?: number; delayMs?: number; onRetry?: (reason: string, attempt: number) => void } = {},
): Promise<void> {
  const attempts = options.attempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      return;
    } catch (err) {
      const code = err instanceof DatabaseError ? err.code : (err as { code?: string }).code;
      // A refused connection to a name with two addresses is an AggregateError without a message.
      const reason = (err instanceof Error && err.message) || code || String(err);
      if (!code || !TRANSIENT.has(code) || attempt >= attempts) {
        throw new Error(`cannot connect to the database at ${databaseLabel(url)} (DATABASE_URL): ${reason}`);
      }
      options.onRetry?.(reason, attempt);
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 2_000));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
