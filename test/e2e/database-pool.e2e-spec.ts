import { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { poolOf } from '../../src/database/sql';
import { poolSettings } from '../../src/database/pool-settings';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase } from '../support/database';

/**
 * The request pool keeps the connections it opened: one that closes idle connections has the next burst
 * wait for new ones (a backend fork and a SCRAM handshake each) on a database that is already busy.
 */
describe('the request pool', () => {
  let url: string;
  beforeAll(async () => {
    url = await createTestDatabase('pool');
  });
  afterEach(() => jest.useRealTimers());

  /** Opens `size` connections at once (a burst), lets them go idle, and lets an hour pass. */
  async function connectionsAfterAnIdleHour(pool: Pool, size: number): Promise<number> {
    const clients: PoolClient[] = await Promise.all(Array.from({ length: size }, () => pool.connect()));
    expect(pool.totalCount).toBe(size);
    // The pool arms its idle timers at release: from here on they run on the fake clock.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance', 'Date'] });
    for (const client of clients) client.release();
    jest.advanceTimersByTime(60 * 60_000);
    jest.useRealTimers();
    return pool.totalCount;
  }

  it('keeps every connection through an idle hour, where pg’s defaults would have closed them all', async () => {
    const ours = new Pool({ connectionString: url, ...poolSettings(6) });
    const defaults = new Pool({ connectionString: url, max: 6 });
    try {
      expect(await connectionsAfterAnIdleHour(ours, 6)).toBe(6);
      expect(await connectionsAfterAnIdleHour(defaults, 6)).toBe(0);
      // The kept connections still answer.
      const answers = await Promise.all(Array.from({ length: 6 }, () => ours.query('SELECT 1 AS one')));
      expect(answers.map((a) => a.rows[0].one)).toEqual([1, 1, 1, 1, 1, 1]);
      expect(ours.totalCount).toBe(6);
    } finally {
      await ours.end();
      await defaults.end();
    }
  });

  describe('of the service', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { DB_POOL_SIZE: '7' } });
    });
    afterAll(() => t?.close());

    it('is built with these settings for DB_POOL_SIZE, TCP keep-alive on', () => {
      const pool = poolOf(t.app.get(DataSource)) as Pool & { options: Record<string, unknown> };
      expect(pool.options).toEqual(
        expect.objectContaining({ max: 7, min: 7, keepAlive: true, keepAliveInitialDelayMillis: 60_000 }),
      );
    });
  });
});
