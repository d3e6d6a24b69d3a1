/**
 * The Kakao emulator as its own process: `node dist/test/emulator/main.js`. Configured by the same variables
 * as the service, plus EMULATOR_PORT / EMULATOR_HOST / EMULATOR_REDIRECT_URIS.
 */
import { startKakaoEmulator } from './index';

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

async function main(): Promise<void> {
  const env = process.env;
  const emulator = await startKakaoEmulator({
    port: Number(env.EMULATOR_PORT ?? 9080),
    host: env.EMULATOR_HOST ?? '127.0.0.1',
    restApiKey: env.KAKAO_REST_API_KEY ?? 'dev-rest-api-key',
    clientSecret: env.KAKAO_CLIENT_SECRET || undefined,
    adminKey: env.KAKAO_ADMIN_KEY ?? 'dev-admin-key',
    appId: env.KAKAO_APP_ID ?? '1000001',
    redirectUris: list(env.EMULATOR_REDIRECT_URIS ?? 'http://localhost:3000/auth/kakao/callback'),
    logoutRedirectUris: list(env.EMULATOR_LOGOUT_REDIRECT_URIS),
    extraAppKeys: list(env.KAKAO_EXTRA_AUDIENCES),
    issuer: env.EMULATOR_ISSUER || undefined,
  });
  process.stdout.write(`Kakao emulator listening on ${emulator.url}\n`);
  const stop = () => void emulator.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`Kakao emulator failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
