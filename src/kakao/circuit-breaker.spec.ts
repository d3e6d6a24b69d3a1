import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let now = 0;
  const breaker = () => new CircuitBreaker({ failureThreshold: 3, openMs: 1_000, now: () => now });
  beforeEach(() => (now = 0));

  it('opens after the threshold of failures in a row, and a success resets the count', () => {
    const b = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
  });

  it('lets exactly one trial through after the pause; its success closes the circuit', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    now = 999;
    expect(b.allow()).toBe(false);
    now = 1_000;
    expect(b.allow()).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(false);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
  });

  it('a failed trial opens the circuit for another pause', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    now = 1_000;
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    now = 1_500;
    expect(b.allow()).toBe(false);
    now = 2_000;
    expect(b.allow()).toBe(true);
  });
});
