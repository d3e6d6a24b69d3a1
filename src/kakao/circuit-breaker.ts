export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Stops calling a dependency that keeps failing: after `failureThreshold` failures in a row the circuit
 * opens and calls fail at once (no socket, no timeout spent) for `openMs`; then one trial call goes through,
 * and its result closes the circuit or opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private current: CircuitState = 'closed';

  constructor(private readonly options: { failureThreshold: number; openMs: number; now?: () => number }) {}

  get state(): CircuitState {
    return this.current;
  }

  /** Whether a call may go out now; when it may, its end must be reported (success or failure). */
  allow(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.openMs) {
      this.current = 'half-open';
      this.trialInFlight = false;
    }
    if (this.current === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    this.current = 'closed';
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.now();
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
