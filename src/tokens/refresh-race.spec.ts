import { RefreshRaceTracker } from './refresh-race';

describe('RefreshRaceTracker', () => {
  it('sees a request that arrived before the rotation finished as a lost race', async () => {
    const tracker = new RefreshRaceTracker();
    const winner = tracker.begin('t');
    const loser = tracker.begin('t');
    winner(true, 100);
    loser(false, 101);
    await expect(tracker.lostRace('t', 99)).resolves.toBe(true);
  });

  it('sees a request that arrived after the rotation finished as a replay', async () => {
    const tracker = new RefreshRaceTracker();
    tracker.begin('t')(true, 100);
    tracker.begin('t')(false, 150);
    await expect(tracker.lostRace('t', 101)).resolves.toBe(false);
  });

  it('waits for a rotation still in flight before deciding', async () => {
    const tracker = new RefreshRaceTracker();
    const winner = tracker.begin('t');
    tracker.begin('t')(false, 10);
    const decision = tracker.lostRace('t', 5);
    let settled = false;
    void decision.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    winner(true, 20);
    await expect(decision).resolves.toBe(true);
  });

  it('does not let replays that all lost shield each other', async () => {
    const tracker = new RefreshRaceTracker();
    tracker.begin('t')(true, 100);
    const a = tracker.begin('t');
    const b = tracker.begin('t');
    a(false, 200);
    b(false, 200);
    await expect(Promise.all([tracker.lostRace('t', 150), tracker.lostRace('t', 151)])).resolves.toEqual([
      false,
      false,
    ]);
  });

  it('treats a token it never saw rotate (another instance) as a replay', async () => {
    const tracker = new RefreshRaceTracker();
    await expect(tracker.lostRace('unknown', 0)).resolves.toBe(false);
    tracker.begin('t')(false, 10);
    await expect(tracker.lostRace('t', 5)).resolves.toBe(false);
  });

  it('forgets a token after the retention time', () => {
    jest.useFakeTimers();
    try {
      const tracker = new RefreshRaceTracker(1000);
      tracker.begin('t')(true, 1);
      expect(tracker.size).toBe(1);
      jest.advanceTimersByTime(1001);
      expect(tracker.size).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
