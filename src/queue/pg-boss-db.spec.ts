import { pgBossDb } from './pg-boss-db';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the statements pg-boss itself sends
const plans = require('pg-boss/src/plans') as Record<string, (schema: string) => string>;

describe('pgBossDb', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const downPool = { query: jest.fn(() => Promise.reject(refused)) };
  const setup = (closed = false) => {
    const lost: unknown[] = [];
    const db = pgBossDb(downPool as never, 'pgboss', { closed: () => closed, onLostReport: (err) => lost.push(err) });
    return { db, lost };
  };

  it('catches the job reports pg-boss does not await (complete, fail) when the database is down', async () => {
    const { db, lost } = setup();
    await expect(db.executeSql(plans.completeJobs('pgboss'), ['q', ['id'], null])).resolves.toBeUndefined();
    await expect(db.executeSql(plans.failJobsById('pgboss'), ['q', ['id'], null])).resolves.toBeUndefined();
    expect(lost).toEqual([refused, refused]);
  });

  it('lets every other statement fail, so pg-boss handles it (fetching, sending)', async () => {
    const { db, lost } = setup();
    await expect(db.executeSql((plans.fetchNextJob('pgboss') as unknown as () => string)(), [])).rejects.toBe(refused);
    await expect(db.executeSql(plans.insertJob('pgboss'), [])).rejects.toBe(refused);
    // The same statements of another schema are not ours to swallow.
    await expect(db.executeSql(plans.completeJobs('other'), [])).rejects.toBe(refused);
    expect(lost).toEqual([]);
  });

  it('answers nothing once the pool is closed, without touching it', async () => {
    downPool.query.mockClear();
    const { db } = setup(true);
    await expect(db.executeSql(plans.insertJob('pgboss'), [])).resolves.toBeUndefined();
    expect(downPool.query).not.toHaveBeenCalled();
  });
});
