import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.factory';
import { AppConfig, loadConfig } from './config/app-config';
import { ConfigError } from './config/environment';

/** Starts the service on the configured address. Returns the app so `npm run dev` can close it. */
export async function bootstrap(config: AppConfig = loadConfig()): Promise<NestFastifyApplication> {
  const app = await createApp(config);
  await app.listen({ port: config.http.port, host: config.http.host });
  return app;
}

/** Process entry point (`node dist/src/main.js`, `npm start`): exits with one clear line on a bad configuration. */
export function runFromCli(): void {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line an operator can act on; no stack trace for a configuration mistake.
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  bootstrap(config).then(
    async (app) => {
      process.stdout.write(`kakao-auth listening on ${await app.getUrl()} (public URL ${config.http.publicUrl})\n`);
    },
    (err: unknown) => {
      process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) runFromCli();
