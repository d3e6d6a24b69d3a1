import { startTestApp, TestApp, waitForLogs } from '../support/app';
import { ProbeModule } from '../support/probe.module';

// The probe route allows 2 requests per client address per minute; the test requests all come from
// 127.0.0.1, as they would from a reverse proxy on the same host.
const CLIENT_A = '203.0.113.7';
const CLIENT_B = '198.51.100.9';

async function statusesFrom(t: TestApp, forwardedFor: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${t.url}/__probe/limited`, { headers: { 'x-forwarded-for': forwardedFor } });
    statuses.push(res.status);
  }
  return statuses;
}

/** The client addresses of the first `count` request log lines. */
const loggedAddresses = async (t: TestApp, count: number) =>
  (await waitForLogs(t, (l) => l.msg === 'request completed', count)).map(
    (l) => (l.req as { remoteAddress?: string } | undefined)?.remoteAddress,
  );

describe('TRUST_PROXY: the client address behind a reverse proxy', () => {
  describe('with the proxy listed', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ imports: [ProbeModule], env: { TRUST_PROXY: 'loopback', LOG_LEVEL: 'info' } });
    });
    afterAll(() => t.close());

    it('gives each forwarded client its own rate limit, and logs its address', async () => {
      expect(await statusesFrom(t, CLIENT_A, 3)).toEqual([200, 200, 429]);
      // Another client behind the same proxy is not limited by the first one's requests.
      expect(await statusesFrom(t, CLIENT_B, 1)).toEqual([200]);
      expect(await loggedAddresses(t, 4)).toEqual([CLIENT_A, CLIENT_A, CLIENT_A, CLIENT_B]);
    });

    it('believes only what the trusted proxy appended: a client-written entry buys no fresh budget', async () => {
      // The proxy appends the address it saw (CLIENT_A) to whatever the client sent.
      expect(await statusesFrom(t, `192.0.2.1, ${CLIENT_A}`, 1)).toEqual([429]);
      expect(await statusesFrom(t, `192.0.2.2, ${CLIENT_A}`, 1)).toEqual([429]);
    });
  });

  describe('without it (the default)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ imports: [ProbeModule] });
    });
    afterAll(() => t.close());

    it('ignores X-Forwarded-For: the client is the socket peer', async () => {
      expect(await statusesFrom(t, CLIENT_A, 2)).toEqual([200, 200]);
      expect(await statusesFrom(t, CLIENT_B, 1)).toEqual([429]);
      // (What the logs show here is checked in platform.e2e-spec.ts: one root logger per process.)
    });
  });
});
