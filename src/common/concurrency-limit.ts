/**
 * Runs at most `limit` operations at once; the others wait in arrival order. A bulkhead: a burst of one
 * kind of write (Kakao's webhook calls) cannot take every connection of the pool that requests share.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`A concurrency limit must be a positive integer`);
  }

  /** Operations waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running++;
    // A finishing operation hands its slot straight to the first waiter, so `running` never drops meanwhile.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await operation();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
