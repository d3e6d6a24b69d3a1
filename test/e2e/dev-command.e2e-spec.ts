import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, portIsFree } from '../../scripts/lib/ports';
import { PLACEHOLDER_SECRETS } from '../../src/config/secrets';
import { ensureBuilt, ROOT, run, Running, waitForHttp } from '../support/process';

const DEV_JS = path.join(ROOT, 'dist/scripts/dev.js');

/** `npm run dev` as a developer runs it (minus the build), with its data folder in a temporary directory. */
describe('npm run dev', () => {
  let dataDir: string;
  let port: number;
  let pgPort: number;

  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(path.join(tmpdir(), 'kakao-auth-dev-'));
    port = await freePort();
    pgPort = await freePort();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const start = (): Running =>
    run(
      'node',
      [DEV_JS],
      { DEV_DATA_DIR: dataDir, PORT: String(port), DEV_PG_PORT: String(pgPort) },
      { processGroup: true },
    );

  /** Ctrl+C in a terminal: SIGINT to the whole foreground process group, not only to the dev process. */
  async function stop(dev: Running): Promise<void> {
    process.kill(-dev.child.pid!, 'SIGINT');
    const { code, stdout, stderr } = await dev.exited;
    expect(code).toBe(0);
    // PostgreSQL stops after the service has closed its connections, not with them still open (57P01).
    const complaints = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .filter((line) => (JSON.parse(line) as { level: number }).level >= 40);
    expect(complaints).toEqual([]);
    expect(stderr).toBe('');
    // ...and it did stop: nothing listens on its port any more.
    expect(await portIsFree(pgPort)).toBe(true);
  }

  it('starts PostgreSQL and the service with generated secrets, then again on the same data', async () => {
    const first = start();
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health/ready`, 60_000);
      expect((await fetch(`http://127.0.0.1:${port}/docs`)).status).toBe(200);
      const { stdout } = first.output();
      expect(stdout).toContain(`Swagger UI   http://localhost:${port}/docs`);
      expect(stdout).toMatch(/Applied \d+ migration\(s\)/);
      // The Kakao emulator runs beside the service, and a Kakao login starts against it.
      const emulatorUrl = /Kakao {8}emulator at (\S+)/.exec(stdout)![1];
      expect((await fetch(`${emulatorUrl}/.well-known/openid-configuration`)).status).toBe(200);
      const login = await fetch(`http://127.0.0.1:${port}/auth/kakao/login`, { redirect: 'manual' });
      expect(login.headers.get('location')).toMatch(new RegExp(`^${emulatorUrl}/oauth/authorize\\?`));
    } finally {
      await stop(first);
    }

    const secretsFile = path.join(dataDir, 'secrets.json');
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    const secrets = JSON.parse(readFileSync(secretsFile, 'utf8')) as Record<string, string>;
    expect(Buffer.byteLength(secrets.JWT_SECRET)).toBeGreaterThanOrEqual(32);
    expect(PLACEHOLDER_SECRETS).not.toContain(secrets.JWT_SECRET);
    expect(Buffer.from(secrets.TOKEN_ENCRYPTION_KEY, 'base64')).toHaveLength(32);

    const second = start();
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health/ready`, 60_000);
      // The database survived the restart: nothing left to migrate, and the secrets were kept.
      expect(second.output().stdout).not.toContain('Applied');
      expect(JSON.parse(readFileSync(secretsFile, 'utf8'))).toEqual(secrets);
    } finally {
      await stop(second);
    }
  }, 150_000);
});
