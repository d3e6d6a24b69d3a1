import { ConcurrencyLimit } from './concurrency-limit';

/** A promise settled from outside. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const ticks = () => new Promise((r) => setImmediate(r));

describe('ConcurrencyLimit', () => {
  it('runs at most `limit` operations at once and starts the waiting ones in arrival order', async () => {
    const limit = new ConcurrencyLimit(2);
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const results = gates.map((gate, i) =>
      limit.run(async () => {
        started.push(i);
        await gate.promise;
        return i * 10;
      }),
    );
    await ticks();
    expect(started).toEqual([0, 1]);
    expect(limit.queued).toBe(3);

    gates[1].resolve();
    await ticks();
    expect(started).toEqual([0, 1, 2]);
    gates[0].resolve();
    gates[2].resolve();
    await ticks();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(limit.queued).toBe(0);
    gates[3].resolve();
    gates[4].resolve();
    expect(await Promise.all(results)).toEqual([0, 10, 20, 30, 40]);
  });

  it('frees the slot of an operation that fails, and passes its error on', async () => {
    const limit = new ConcurrencyLimit(1);
    const failing = deferred();
    const first = limit.run(() => failing.promise);
    let secondRan = false;
    const second = limit.run(async () => {
      secondRan = true;
    });
    await ticks();
    expect(secondRan).toBe(false);
    failing.reject(new Error('database gone'));
    await expect(first).rejects.toThrow('database gone');
    await second;
    expect(secondRan).toBe(true);
    // The slot is back: a third operation starts at once.
    let thirdRan = false;
    void limit.run(async () => {
      thirdRan = true;
    });
    expect(thirdRan).toBe(true);
  });

  it('refuses a limit that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, NaN]) expect(() => new ConcurrencyLimit(bad)).toThrow('positive integer');
  });
});
