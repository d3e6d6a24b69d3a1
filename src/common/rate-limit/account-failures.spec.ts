import type { AppConfig } from '../../config/app-config';
import { AccountFailureLimiter } from './account-failures';

describe('AccountFailureLimiter', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-11-24T10:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  const limiter = () =>
    new AccountFailureLimiter({ rateLimit: { authPerMinute: 120, accountFailuresPerMinute: 10 } } as AppConfig);

  it('locks an account past the minute’s limit for a minute, and counts each account apart', () => {
    const l = limiter();
    for (let i = 0; i < 10; i++) l.recordFailure('account:a@b.c');
    expect(l.lockedFor('account:a@b.c')).toBe(0);
    l.recordFailure('account:a@b.c');
    expect(l.lockedFor('account:a@b.c')).toBe(60);
    expect(l.lockedFor('account:other@b.c')).toBe(0);
    jest.advanceTimersByTime(60_000);
    expect(l.lockedFor('account:a@b.c')).toBe(0);
  });

  // ASVS 2.2.1: no more than 100 failed attempts an hour on one account, however they are paced.
  it.each([6, 7, 15])(
    'holds a guesser trying every %i s (under the minute’s limit) to fewer than 100 an hour',
    (every) => {
      const l = limiter();
      let tried = 0;
      for (let second = 0; second < 3600; second += every) {
        jest.setSystemTime(new Date('2026-11-24T10:00:00Z').getTime() + second * 1000);
        if (l.lockedFor('account:a@b.c')) continue;
        tried++;
        l.recordFailure('account:a@b.c');
      }
      expect(tried).toBeGreaterThan(50);
      expect(tried).toBeLessThan(100);
    },
  );
});
