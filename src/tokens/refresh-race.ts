/**
 * Tells a lost race between concurrent refreshes of one token apart from a replay of a spent token.
 *
 * A client that sends the same refresh token several times at once (two tabs, a retry) must not lose its
 * session, while a token presented again after its successor was handed out is a replay (RFC 9700 4.14.2)
 * that revokes the family. The line between the two is causal: a request that reached this instance before
 * the successful rotation's answer had left cannot come from someone who had seen the successor. A racing request
 * still gets no tokens (401); it only does not count as theft. No time-based grace is granted: a replay
 * right after a rotation is exactly what reuse detection is for. A replay reaching another instance than the
 * rotation is always treated as reuse (fail safe).
 */
export class RefreshRaceTracker {
  private readonly entries = new Map<string, { attempts: Set<Promise<void>>; rotatedAt?: number }>();

  constructor(private readonly retentionMs = 30_000) {}

  /**
   * Registers an attempt on `key`; call the returned function when it has finished, with whether this
   * attempt rotated the token and a monotonic clock reading (performance.now()).
   */
  begin(key: string): (rotated: boolean, now: number) => void {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { attempts: new Set() };
      this.entries.set(key, entry);
    }
    let finish!: () => void;
    const attempt = new Promise<void>((resolve) => (finish = resolve));
    entry.attempts.add(attempt);
    const e = entry;
    return (rotated, now) => {
      if (rotated) e.rotatedAt = now;
      e.attempts.delete(attempt);
      finish();
      if (e.attempts.size === 0) {
        setTimeout(() => {
          if (e.attempts.size === 0 && this.entries.get(key) === e) this.entries.delete(key);
        }, this.retentionMs).unref();
      }
    };
  }

  /**
   * For an attempt that found the token already spent, after it has finished itself (so that two losers
   * never wait for each other): waits for the attempts still running on the token, then says whether this
   * one arrived before the successful rotation finished.
   */
  async lostRace(key: string, arrivedAt: number): Promise<boolean> {
    const entry = this.entries.get(key);
    if (!entry) return false;
    await Promise.all([...entry.attempts]);
    return entry.rotatedAt !== undefined && arrivedAt < entry.rotatedAt;
  }

  get size(): number {
    return this.entries.size;
  }
}
