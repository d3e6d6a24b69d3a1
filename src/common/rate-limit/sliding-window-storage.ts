import type { ThrottlerStorage } from '@nestjs/throttler';

/** What a hit answers (the package does not export the record's type from its entry point). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Window {
  ttl: number;
  /** Start of the current fixed window (ms). */
  start: number;
  current: number;
  /** Hits of the window before `start`, weighted by how much of it still overlaps the sliding window. */
  previous: number;
  blockedUntil: number;
}

/**
 * Rate-limit counters in O(1) time and memory per key, whatever the limit: a sliding window estimated from
 * two fixed windows (the previous window's hits weighted by its overlap with the last `ttl` ms, plus the
 * current window's), as large rate limiters do.
 *
 * Why not @nestjs/throttler's default storage: it keeps one timestamp per hit and copies the whole array on
 * every request, so a request costs O(limit). With a limit raised for a gateway or a carrier-grade NAT
 * (thousands per minute from one address) each login paid hundreds of microseconds to milliseconds, and the
 * arrays fed the garbage collector (measured: 160 µs per hit at 5,000 live hits, 1.6 ms at 30,000).
 *
 * Semantics kept from the default: a hit over the limit blocks the key for `blockDuration` (not counting
 * the blocked hits), and the key starts afresh once the block ends; with `blockDuration` 0 only the hits
 * over the limit are refused. A burst from a fresh key is allowed exactly `limit` hits.
 */
export class SlidingWindowThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Keys currently remembered (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    return Promise.resolve(this.hit(`${throttlerName}\u0000${key}`, ttl, limit, blockDuration));
  }

  /** Seconds left of the block on `key` (at least 1), or 0 when it is not blocked. Counts nothing. */
  blockedFor(key: string, throttlerName: string): number {
    const w = this.windows.get(`${throttlerName}\u0000${key}`);
    const now = this.now();
    return w && w.blockedUntil > now ? Math.max(1, Math.ceil((w.blockedUntil - now) / 1000)) : 0;
  }

  private hit(key: string, ttl: number, limit: number, blockDuration: number): ThrottlerStorageRecord {
    const now = this.now();
    this.sweep(now, ttl);
    let w = this.windows.get(key);
    if (!w || w.ttl !== ttl || (w.blockedUntil > 0 && w.blockedUntil <= now)) {
      w = { ttl, start: now, current: 0, previous: 0, blockedUntil: 0 };
      this.windows.set(key, w);
    }
    roll(w, now);
    const secondsLeft = (until: number) => Math.max(1, Math.ceil((until - now) / 1000));
    const timeToExpire = secondsLeft(w.start + ttl);

    if (w.blockedUntil > now) {
      const totalHits = Math.ceil(estimate(w, now));
      return { totalHits, timeToExpire, isBlocked: true, timeToBlockExpire: secondsLeft(w.blockedUntil) };
    }
    if (blockDuration <= 0 && estimate(w, now) + 1 > limit) {
      // No block: this hit is refused and not counted; the next may pass as the window slides.
      return { totalHits: limit + 1, timeToExpire, isBlocked: true, timeToBlockExpire: timeToExpire };
    }
    w.current++;
    const hits = estimate(w, now);
    if (hits > limit && blockDuration > 0) {
      w.blockedUntil = now + blockDuration;
      return {
        totalHits: Math.ceil(hits),
        timeToExpire,
        isBlocked: true,
        timeToBlockExpire: secondsLeft(w.blockedUntil),
      };
    }
    return { totalHits: Math.ceil(hits), timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
  }

  /**
   * Forgets keys with nothing left to count, at most once per `ttl`: no timer to stop at shutdown, and the
   * map stays bounded by the keys active in the last two windows.
   */
  private sweep(now: number, ttl: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + ttl;
    for (const [key, w] of this.windows) {
      if (w.blockedUntil > now) continue;
      if (now >= w.start + 2 * w.ttl || (w.blockedUntil > 0 && w.blockedUntil <= now)) this.windows.delete(key);
    }
  }
}

/** Moves the fixed windows forward to the one holding `now`. */
function roll(w: Window, now: number): void {
  const elapsed = Math.floor((now - w.start) / w.ttl);
  if (elapsed <= 0) return;
  w.previous = elapsed === 1 ? w.current : 0;
  w.current = 0;
  w.start += elapsed * w.ttl;
}

/** Hits in the last `ttl` ms, counting the previous window's as spread evenly over it. */
function estimate(w: Window, now: number): number {
  const overlap = 1 - (now - w.start) / w.ttl;
  return w.previous * overlap + w.current;
}
