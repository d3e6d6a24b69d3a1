import type { DataSource } from 'typeorm';
import { InstanceLoad, isBusy, LOAD_SAMPLE_MS } from './instance-load';

describe('isBusy', () => {
  it('is busy when a query waits for a connection, or the loop had no spare tenth', () => {
    expect(isBusy({ waitingForDatabase: 0, loopUtilisation: 0.5 })).toBe(false);
    expect(isBusy({ waitingForDatabase: 0, loopUtilisation: 0.89 })).toBe(false);
    expect(isBusy({ waitingForDatabase: 1, loopUtilisation: 0.1 })).toBe(true);
    expect(isBusy({ waitingForDatabase: 0, loopUtilisation: 0.9 })).toBe(true);
  });
});

describe('InstanceLoad', () => {
  it("reads the loop's utilisation over its last sample, and the requests modules hold back", async () => {
    // No PostgresDriver behind it: no pool to read, the loop alone decides.
    const load = new InstanceLoad({ driver: {} } as DataSource);
    try {
      await new Promise((r) => setTimeout(r, LOAD_SAMPLE_MS * 3));
      expect(load.reading()).toEqual({ waitingForDatabase: 0, loopUtilisation: expect.any(Number) });
      // Whether the loop itself was over 90% busy depends on what else the machine runs (CI runs suites in
      // parallel on two cores): the assertions below hold whatever it was.
      expect(load.busy()).toBe(isBusy(load.reading()));

      let heldBack = 2;
      load.countWaiting(() => heldBack);
      expect(load.reading().waitingForDatabase).toBe(2);
      expect(load.busy()).toBe(true);
      heldBack = 0;
      expect(load.reading().waitingForDatabase).toBe(0);
      expect(load.busy()).toBe(isBusy(load.reading()));

      // Ten samples' worth of synchronous work: the sample taken next is nearly all of it.
      const until = performance.now() + LOAD_SAMPLE_MS * 10;
      while (performance.now() < until);
      await new Promise((r) => setTimeout(r, 0));
      expect(load.reading().loopUtilisation).toBeGreaterThan(0.9);
      expect(load.busy()).toBe(true);
    } finally {
      load.onModuleDestroy();
    }
  });
});
