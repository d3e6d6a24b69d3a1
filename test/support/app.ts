import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Writable } from 'node:stream';
import type { Client } from 'pg';
import { createApp } from '../../src/app.factory';
import type { AppModuleOptions } from '../../src/app.module';
import { AppConfig, buildConfig } from '../../src/config/app-config';
import { validateEnvironment } from '../../src/config/environment';
import { connect, createTestDatabase } from './database';
import { testEnvironment } from './env';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** Base URL of the listening service, e.g. http://127.0.0.1:41234 */
  url: string;
  databaseUrl: string;
  /** A separate connection for assertions on the database. */
  db: Client;
  /** Every log line the service wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  /** Use this database instead of a fresh one. */
  databaseUrl?: string;
  /** Extra Nest modules (probe routes for platform tests). */
  imports?: AppModuleOptions['imports'];
  /** Job queue tunables (short retry delays). */
  queue?: AppModuleOptions['queue'];
}

/** Boots the real application (same factory as production) on a fresh database and a real port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  const env = testEnvironment({ DATABASE_URL: databaseUrl, ...options.env });
  const config = buildConfig(validateEnvironment(env));
  const logs: Array<Record<string, unknown>> = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  const app = await createApp(config, { logStream, imports: options.imports, queue: options.queue });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const db = await connect(databaseUrl);
  return {
    app,
    config,
    url,
    databaseUrl,
    db,
    logs,
    async close() {
      await db.end();
      await app.close();
    },
  };
}

/**
 * The log lines matching `predicate`, once there are `count` of them (or after `timeoutMs`, with fewer): a
 * request's log line is written after its answer is sent, so it may arrive just after the response.
 */
export async function waitForLogs(
  app: TestApp,
  predicate: (line: Record<string, unknown>) => boolean,
  count = 1,
  timeoutMs = 2000,
): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + timeoutMs;
  let lines = app.logs.filter(predicate);
  while (lines.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    lines = app.logs.filter(predicate);
  }
  return lines;
}

/** The parsed JSON body of a fetch response, typed loosely for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = async (res: Response): Promise<any> => res.json();
