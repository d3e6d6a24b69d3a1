import { SlidingWindowThrottlerStorage } from './sliding-window-storage';

const MINUTE = 60_000;

describe('SlidingWindowThrottlerStorage', () => {
  let clock: number;
  let storage: SlidingWindowThrottlerStorage;
  const hit = (key = 'ip-1', limit = 3, blockDuration = MINUTE, name = 'auth') =>
    storage.increment(key, MINUTE, limit, blockDuration, name);

  beforeEach(() => {
    clock = 1_000_000;
    storage = new SlidingWindowThrottlerStorage(() => clock);
  });

  it('allows exactly the limit in a burst from a fresh key, then blocks for the block duration', async () => {
    const first = await hit();
    expect(first).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    await hit();
    expect((await hit()).isBlocked).toBe(false);
    const over = await hit();
    expect(over).toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
    clock += 30_000;
    expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 30 });
  });

  it('tells how long a key stays blocked without counting a hit (a lock checked before each attempt)', async () => {
    expect(storage.blockedFor('ip-1', 'auth')).toBe(0);
    for (let i = 0; i < 3; i++) await hit();
    expect(storage.blockedFor('ip-1', 'auth')).toBe(0);
    await hit();
    expect(storage.blockedFor('ip-1', 'auth')).toBe(60);
    clock += 59_500;
    expect(storage.blockedFor('ip-1', 'auth')).toBe(1);
    expect(storage.blockedFor('ip-1', 'other')).toBe(0);
    clock += 500;
    expect(storage.blockedFor('ip-1', 'auth')).toBe(0);
    // Asking counted nothing: the key starts afresh.
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('starts the key afresh once its block has ended', async () => {
    for (let i = 0; i < 4; i++) await hit();
    clock += MINUTE;
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('counts the previous window by its overlap, so a limit cannot be doubled across a window edge', async () => {
    const noBlock = () => hit('ip-1', 3, 0);
    await noBlock(); // opens the window
    clock += 59_000;
    await noBlock();
    expect((await noBlock()).isBlocked).toBe(false); // 3 hits, two of them in the window's last second
    clock += 2_000; // a fixed window would have reset: 3 more at once
    // 3 × 59/60 + 1 > 3 (the estimate spreads the previous window's hits evenly, so it is the stricter here).
    expect((await noBlock()).isBlocked).toBe(true);
    clock += 29_000; // half of the new window: 3 × 1/2 + 1 ≤ 3, then 3 × 1/2 + 2 > 3
    expect((await noBlock()).isBlocked).toBe(false);
    expect((await noBlock()).isBlocked).toBe(true);
  });

  it('lets hits through again as the previous window slides out (no block duration)', async () => {
    for (let i = 0; i < 3; i++) await hit('ip-1', 3, 0);
    expect(await hit('ip-1', 3, 0)).toMatchObject({ isBlocked: true, totalHits: 4 });
    // The refused hit was not counted: one minute and a third later a third of the window still overlaps.
    clock += MINUTE + 20_000;
    expect((await hit('ip-1', 3, 0)).isBlocked).toBe(false); // 3 × 2/3 + 1 = 3
    expect((await hit('ip-1', 3, 0)).isBlocked).toBe(true); // 3 × 2/3 + 2 > 3
    clock += MINUTE;
    expect((await hit('ip-1', 3, 0)).isBlocked).toBe(false);
  });

  it('keeps keys and throttlers apart', async () => {
    for (let i = 0; i < 4; i++) await hit('ip-1');
    expect((await hit('ip-2')).isBlocked).toBe(false);
    expect((await hit('ip-1', 3, MINUTE, 'account')).isBlocked).toBe(false);
    expect((await hit('ip-1')).isBlocked).toBe(true);
  });

  it('reports the hits left to the headers: remaining = limit − totalHits', async () => {
    const answers = [await hit('k', 5), await hit('k', 5)];
    expect(answers.map((a) => 5 - a.totalHits)).toEqual([4, 3]);
  });

  it('forgets idle keys, so memory stays bounded by the keys active in the last two windows', async () => {
    for (let i = 0; i < 1000; i++) await hit(`ip-${i}`);
    expect(storage.size).toBe(1000);
    clock += 2 * MINUTE;
    await hit('ip-new');
    expect(storage.size).toBe(1);
  });

  it('counts a large limit exactly: 50,000 hits under one key', async () => {
    for (let i = 0; i < 50_000; i++) await hit('gateway', 1_000_000);
    expect(storage.size).toBe(1);
    expect((await hit('gateway', 1_000_000)).totalHits).toBe(50_001);
  });
});
