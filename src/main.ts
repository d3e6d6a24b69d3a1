import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.factory';
import { AppConfig, loadConfig } from './config/app-config';
import { ConfigError } from './config/environment';
import { waitForDatabase } from './database/wait-for-database';
import { readCatalog } from './terms/terms-catalog';

/** How long in-flight requests get to finish after SIGTERM before the process gives up on them. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The same signal again within this time is the same request delivered twice: a terminal's Ctrl+C reaches
 * both npm and the service (`npm start` execs it), and npm forwards its own copy.
 */
const REPEATED_SIGNAL_MS = 1_000;

/**
 * Graceful shutdown: stop accepting connections, let in-flight requests finish, run the modules' shutdown
 * hooks (database pool, queues), then exit 0. A second signal (not the first one's double) or the grace
 * period ends it at once.
 */
export function closeOnSignals(app: NestFastifyApplication, onClosed: () => void = () => process.exit(0)): void {
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    if (first) {
      if (signal === first.signal && Date.now() - first.at < REPEATED_SIGNAL_MS) return;
      process.exit(1);
    }
    first = { signal, at: Date.now() };
    process.stdout.write(`${signal} received: shutting down\n`);
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    app.close().then(onClosed, () => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Starts the service on the configured address. Returns the app so `npm run dev` can close it. */
export async function bootstrap(config: AppConfig = loadConfig()): Promise<NestFastifyApplication> {
  await waitForDatabase(config.db.url, {
    onRetry: (reason, attempt) =>
      process.stderr.write(`Database not reachable yet (${reason}); retrying (${attempt})\n`),
  });
  const app = await createApp(config);
  await app.listen({ port: config.http.port, host: config.http.host });
  return app;
}

/**
 * Reads TERMS_CATALOG_FILE before Nest builds the app. The app reads it again when it builds TermsCatalog,
 * but a failure there surfaces through Nest's exception handler as a stack trace; here it is a ConfigError.
 */
export function checkTermsCatalog(config: AppConfig): void {
  readCatalog(config.termsCatalogFile);
}

/** Process entry point (`node dist/src/main.js`, `npm start`): exits with one clear line on a bad configuration. */
export function runFromCli(): void {
  let config: AppConfig;
  try {
    config = loadConfig();
    checkTermsCatalog(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line an operator can act on; no stack trace for a configuration mistake.
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  bootstrap(config).then(
    (app) => {
      closeOnSignals(app);
      // The bound address as configured: Nest's getUrl() shows 0.0.0.0 (every interface) as 127.0.0.1.
      const { port } = app.getHttpServer().address() as { port: number };
      const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
      process.stdout.write(`kakao-auth listening on http://${host}:${port} (public URL ${config.http.publicUrl})\n`);
    },
    (err: unknown) => {
      process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) runFromCli();
