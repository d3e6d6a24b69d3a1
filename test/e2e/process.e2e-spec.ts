import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/lib/ports';
import { startTestApp } from '../support/app';
import { createTestDatabase } from '../support/database';
import { testEnvironment } from '../support/env';
import { ensureBuilt, MAIN_JS, ROOT, run, waitForHttp } from '../support/process';

/** A free port and the environment of a service on its own new database, listening on `host`. */
async function serviceEnvironment(database: string, host = '127.0.0.1') {
  const port = await freePort();
  const env = testEnvironment({ DATABASE_URL: await createTestDatabase(database), PORT: String(port), HOST: host });
  return { port, env };
}

describe('the service as a process', () => {
  beforeAll(() => ensureBuilt());

  describe('refuses a bad configuration with one clear line', () => {
    it('names a missing variable and exits 1 without a stack trace', async () => {
      const { code, stderr, stdout } = await run('node', [MAIN_JS], testEnvironment({ JWT_SECRET: undefined })).exited;
      expect(code).toBe(1);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe('Invalid configuration: JWT_SECRET is required');
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stdout).toBe('');
    });

    it.each([
      ['is missing', null, /^Invalid configuration: TERMS_CATALOG_FILE \(\S+\): cannot read \S+: no such file$/],
      [
        'is not JSON',
        '[{"tag": "service_20230810",',
        /^Invalid configuration: TERMS_CATALOG_FILE \(\S+\): not valid JSON/,
      ],
      [
        'has an entry of the wrong shape',
        JSON.stringify([{ tag: 'service_20230810', title: 'Terms', required: true, revocable: false }]),
        /^Invalid configuration: TERMS_CATALOG_FILE \(\S+\): entry 0: url must be an http\(s\) URL$/,
      ],
    ])('names TERMS_CATALOG_FILE and the file when it %s, in one line', async (_why, content, expected) => {
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'terms-')), 'terms.json');
      if (content !== null) writeFileSync(file, content);
      const { code, stderr, stdout } = await run('node', [MAIN_JS], testEnvironment({ TERMS_CATALOG_FILE: file }))
        .exited;
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(expected)]);
      expect(stderr).toContain(file);
      expect(stdout).toBe('');
    });

    it.each([
      ['a wrong password', (u: URL) => (u.password = 'wrong-password'), /password authentication failed/],
      [
        'an unknown database',
        (u: URL) => (u.pathname = '/no_such_database'),
        /database "no_such_database" does not exist/,
      ],
    ])('names DATABASE_URL and the reason for %s, in one line and at once', async (_label, spoil, reason) => {
      const url = new URL(await createTestDatabase('badurl'));
      spoil(url);
      const { code, stderr } = await run('node', [MAIN_JS], testEnvironment({ DATABASE_URL: url.toString() })).exited;
      expect(code).toBe(1);
      const lines = stderr.trim().split('\n');
      expect(lines).toEqual([
        expect.stringMatching(
          /^Failed to start: cannot connect to the database at 127\.0\.0\.1:\d+\/\w+ \(DATABASE_URL\): /,
        ),
      ]);
      expect(lines[0]).toMatch(reason);
      expect(stderr).not.toContain('wrong-password');
    });

    it('refuses a placeholder JWT_SECRET in production', async () => {
      const env = testEnvironment({
        NODE_ENV: 'production',
        JWT_SECRET: 'change-me-to-a-random-string-of-at-least-32-bytes',
      });
      const { code, stderr } = await run('node', [MAIN_JS], env).exited;
      expect(code).toBe(1);
      expect(stderr.trim()).toBe('Invalid configuration: JWT_SECRET is a placeholder value');
    });

    it('refuses a short JWT_SECRET under npm start even when NODE_ENV=development', async () => {
      const env = testEnvironment({ NODE_ENV: 'development', JWT_SECRET: 'too-short' });
      const { code, stderr } = await run('npm', ['start', '--silent'], env).exited;
      expect(code).not.toBe(0);
      expect(stderr).toContain('Invalid configuration: JWT_SECRET must be at least 32 bytes');
    });
  });

  it("serves under the container's command (node scripts/start.js), then shuts down cleanly on SIGTERM", async () => {
    const { port, env } = await serviceEnvironment('proc');
    const service = run('node', [path.join(ROOT, 'scripts', 'start.js')], env);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health/ready`);
      expect(service.output().stdout).toContain(`listening on http://127.0.0.1:${port}`);
    } finally {
      service.child.kill('SIGTERM');
    }
    const { code, signal } = await service.exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
  });

  // npm runs a script under `sh -c`, and forwards its signals to that shell, which died of a SIGTERM and left
  // the service running with no parent, still on its port (found by an operator's audit).
  it('under npm start, a SIGTERM to npm reaches the service, which shuts down cleanly', async () => {
    const { port, env } = await serviceEnvironment('npmstart', '0.0.0.0');
    const npm = run('npm', ['start', '--silent'], env);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health/ready`, 60_000);
    } finally {
      npm.child.kill('SIGTERM');
    }
    const { code, stdout } = await npm.exited;
    // The address as bound: every interface, not the 127.0.0.1 Nest's getUrl() shows for it.
    expect(stdout).toContain(`kakao-auth listening on http://0.0.0.0:${port} `);
    expect(stdout).toContain('SIGTERM received: shutting down');
    expect(code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
  }, 90_000);

  it('takes a Ctrl+C delivered twice at once (the terminal’s and npm’s copy) as one: a clean shutdown', async () => {
    const { port, env } = await serviceEnvironment('ctrlc');
    const service = run('node', [MAIN_JS], env);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health/ready`);
    } finally {
      service.child.kill('SIGINT');
    }
    // npm's copy comes a moment after the terminal's, once the service is already closing.
    while (!service.output().stdout.includes('SIGINT received')) await new Promise((r) => setTimeout(r, 5));
    service.child.kill('SIGINT');
    const { code, signal } = await service.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});

describe('migrations at start', () => {
  it('are skipped with DB_MIGRATIONS_RUN=false, and one still pending refuses the start, saying which', async () => {
    const databaseUrl = await createTestDatabase('nomig');
    const first = await startTestApp({ databaseUrl });
    // Pretend the newest migration is pending: with DB_MIGRATIONS_RUN=false it must stay pending.
    const newest = await first.db.query(
      `DELETE FROM schema_migrations WHERE id = (SELECT max(id) FROM schema_migrations) RETURNING *`,
    );
    const { id, timestamp, name } = newest.rows[0] as { id: number; timestamp: string; name: string };
    try {
      const refused = startTestApp({ databaseUrl, env: { DB_MIGRATIONS_RUN: 'false' } });
      // An instance that started would pass /health/ready and fail the requests needing the missing schema.
      await expect(refused).rejects.toThrow(`1 migration(s) pending (${name}) and DB_MIGRATIONS_RUN=false`);
      const { rows } = await first.db.query(`SELECT 1 FROM schema_migrations WHERE name = $1`, [name]);
      expect(rows).toHaveLength(0);
      // Once it is applied (here: recorded again), the same start goes through.
      await first.db.query(`INSERT INTO schema_migrations (id, timestamp, name) VALUES ($1, $2, $3)`, [
        id,
        timestamp,
        name,
      ]);
      const t = await startTestApp({ databaseUrl, env: { DB_MIGRATIONS_RUN: 'false' } });
      await t.close();
    } finally {
      await first.close();
    }
  });

  it('with DB_MIGRATIONS_RUN=false on an empty database, refuse to start and say why', async () => {
    await expect(startTestApp({ env: { DB_MIGRATIONS_RUN: 'false' } })).rejects.toThrow(
      /migration\(s\) pending .* apply them \(npm run migration:run\)/,
    );
  });

  it('are applied once when two instances start together on one database', async () => {
    const databaseUrl = await createTestDatabase('twin');
    const [a, b] = await Promise.all([startTestApp({ databaseUrl }), startTestApp({ databaseUrl })]);
    try {
      const { rows } = await a.db.query('SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name');
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.n).toBe(1);
      expect((await fetch(`${b.url}/health/ready`)).status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
