import type { PoolConfig } from 'pg';

/**
 * How our pools keep their connections: the request pool, the job queue's, and the bench's baseline (so both
 * sides pay the same).
 *
 * A fixed size: a connection once opened stays. pg-pool's default closes any connection idle for 10 s (we
 * had 30 s), and since it hands out the most recently released connection first, under a steady load the
 * few at the top serve everything while the rest age out. The next burst then waits for new connections
 * exactly when it can least afford to: each is a backend fork and a SCRAM handshake on a database that is
 * already busy. Measured on the bench's stack (GET /members/me at 720/s): the pool had shrunk to 7, a burst
 * waited 53-63 ms for three new connections with up to 22 queries queued behind them, and that run's p99 was
 * 23.7 ms against the baseline's 6.0. Ten connections per instance cost PostgreSQL little; dead ones (a
 * restart, a failover, a peer gone silent and caught by keep-alive) are dropped by the pool when their
 * socket errors.
 *
 * TCP keep-alive so that an idle connection is not silently dropped by a NAT or load balancer on the way
 * (AWS NAT gateways forget a flow after 350 s, Azure's load balancer after 4 minutes): without it the
 * first query on such a connection hangs until the kernel gives up on it. Probes start after 60 s idle and
 * repeat at the kernel's interval (75 s on Linux).
 */
export function poolSettings(poolSize: number): PoolConfig {
  return {
    max: poolSize,
    min: poolSize,
    // A stuck connection attempt must not hold a request (or /health/ready) forever.
    connectionTimeoutMillis: 5000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 60_000,
  };
}
