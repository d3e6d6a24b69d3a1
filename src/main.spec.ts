import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { closeOnSignals } from './main';

describe('closeOnSignals', () => {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  let before: Map<string, NodeJS.SignalsListener[]>;
  let exit: jest.SpyInstance;
  let write: jest.SpyInstance;

  beforeEach(() => {
    before = new Map(signals.map((s) => [s, process.listeners(s)]));
    exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
  });

  afterEach(() => {
    for (const s of signals) {
      for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.removeListener(s, l);
    }
    jest.useRealTimers();
    exit.mockRestore();
    write.mockRestore();
  });

  /** An app whose close is held until released, and the onClosed callback. */
  function start() {
    let release!: () => void;
    const close = jest.fn(() => new Promise<void>((resolve) => (release = resolve)));
    const onClosed = jest.fn();
    closeOnSignals({ close } as unknown as NestFastifyApplication, onClosed);
    return { close, onClosed, release: () => release() };
  }

  it('closes the app once on a signal delivered twice at once (a terminal and npm both send Ctrl+C)', async () => {
    const { close, onClosed, release } = start();
    process.emit('SIGINT');
    process.emit('SIGINT');
    expect(close).toHaveBeenCalledTimes(1);
    release();
    await Promise.resolve();
    await Promise.resolve();
    expect(onClosed).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
  });

  it('ends at once on a second signal that is no double of the first', () => {
    start();
    process.emit('SIGINT');
    process.emit('SIGTERM');
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('ends at once on the same signal sent again later (an impatient second Ctrl+C)', () => {
    start();
    process.emit('SIGINT');
    jest.advanceTimersByTime(1_500);
    process.emit('SIGINT');
    expect(exit).toHaveBeenCalledWith(1);
  });
});
