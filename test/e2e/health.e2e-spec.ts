import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres';
import { json, startTestApp, TestApp } from '../support/app';

/** Polls until `check` passes or the time is up; returns the last value seen. */
async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}

describe('readiness follows the database', () => {
  // A server of its own: this test stops it, which would break every other test on a shared one.
  let pg: EmbeddedPostgresHandle;
  let t: TestApp;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kakao-auth-health-'));

  beforeAll(async () => {
    pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), persistent: true, fast: true });
    await pg.createDatabase('health');
    t = await startTestApp({ databaseUrl: pg.url('health') });
  });
  afterAll(async () => {
    await t?.app.close();
    await pg?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const ready = async () => {
    const res = await fetch(`${t.url}/health/ready`);
    return { status: res.status, body: await json(res) };
  };

  it('is 200 with the database up, 503 while it is stopped, and 200 again once it is back, without a restart', async () => {
    expect((await ready()).status).toBe(200);

    await t.db.end(); // the assertion connection would only see the server go away
    await pg.stop();
    const down = await waitFor(ready, (r) => r.status === 503);
    expect(down.status).toBe(503);
    expect(down.body).toEqual(
      expect.objectContaining({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', requestId: expect.any(String) }),
    );
    expect(down.body.details).toEqual({ database: expect.objectContaining({ status: 'down' }) });
    // Liveness does not depend on the database: restarting the process would not help.
    expect((await fetch(`${t.url}/health/live`)).status).toBe(200);

    await pg.start();
    const up = await waitFor(ready, (r) => r.status === 200);
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
  });
});
