import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { percentile, round } from './stats';

/** One request as autocannon builds it; `next()` may vary it per request (tokens, codes). */
export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationSec: number;
  /** Requests per second over all connections (a fixed arrival rate); unlimited when absent. */
  rate?: number;
  /**
   * The requests: a function builds each one (unique tokens, codes), or a fixed list that autocannon
   * encodes once and cycles through (cheaper for the load generator, which shares a core with PostgreSQL).
   */
  next: (() => RequestSpec) | RequestSpec[];
  /** Keep every latency (ms, float) for exact percentiles. */
  keepLatencies?: boolean;
  /** Latencies of requests sent in the first `settleMs` of the run are not kept (default 500). */
  settleMs?: number;
  /**
   * Open loop only: requests still waiting on our side for a connection when the arrival window ends are
   * dropped (counted in `abandoned`) instead of sent late, so a run the server cannot keep up with ends
   * with its window rather than minutes after it. Requests already on a connection are answered.
   */
  abandonQueuedAtEnd?: boolean;
}

export interface LoadResult {
  requests: number;
  /** Successful (2xx) answers per second. */
  rps: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Requests dropped unsent at the end of the window (`abandonQueuedAtEnd`). */
  abandoned?: number;
  seconds: number;
  statusCodes: Record<string, number>;
  /** Float milliseconds of 2xx answers (only with keepLatencies). */
  /** Every 2xx latency (ms), only with keepLatencies; left out of the JSON report. */
  latencies?: number[];
  p50?: number;
  p90?: number;
  p99?: number;
  p999?: number;
  max?: number;
}

/**
 * Unlimited runs go through autocannon (closed loop: each connection sends its next request when the last is
 * answered). A fixed rate goes through `runOpenLoop`: autocannon's rate limit lets every connection send its
 * share at the top of each second, so a "fixed rate" arrived as one burst per second and its latencies
 * measured how the burst queued, not the service.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  return options.rate ? runOpenLoop({ ...options, rate: options.rate }) : runClosedLoop(options);
}

async function runClosedLoop(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSec,
    overallRate: options.rate,
    timeout: 10,
    requests: Array.isArray(options.next)
      ? options.next.map((spec) => ({
          method: spec.method,
          path: spec.path,
          headers: spec.headers ?? {},
          body: spec.body,
        }))
      : [
          {
            setupRequest: (request: Record<string, unknown>) => {
              const spec = (options.next as () => RequestSpec)();
              request.method = spec.method;
              request.path = spec.path;
              request.headers = { ...(spec.headers ?? {}) };
              request.body = spec.body;
              return request;
            },
          },
        ],
  } as unknown as autocannon.Options) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  if (options.keepLatencies) {
    // Requests sent while the connections are still being opened are left out: on this machine a burst of
    // new connections sometimes loses a SYN, and the 1 s retransmission would be measured as the server's.
    const started = performance.now();
    const settle = options.settleMs ?? 500;
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
      if (statusCode >= 200 && statusCode < 300 && performance.now() - ms - started >= settle) latencies.push(ms);
    });
  }
  const result = await instance;
  const ok = result['2xx'];
  const seconds = result.duration;
  const codes: Record<string, number> = {};
  for (const [code, v] of Object.entries(
    (result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats ?? {},
  )) {
    codes[code] = v.count;
  }
  const out: LoadResult = {
    requests: result.requests.total,
    rps: round(ok / seconds, 1),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: round(seconds, 2),
    statusCodes: codes,
  };
  if (options.keepLatencies && latencies.length > 0) {
    Object.defineProperty(out, 'latencies', { value: latencies, enumerable: false });
    addPercentiles(out, latencies);
  }
  return out;
}

/**
 * Open-loop load at a fixed arrival rate: request i is due at start + i / rate, whatever happened to the
 * requests before it (arrivals of independent clients). Its latency runs from that due time, so waiting for
 * a free connection on our side counts too and a stalled server cannot slow the arrivals down (coordinated
 * omission). At most `connections` requests are in flight on keep-alive sockets; later ones wait their turn.
 */
export async function runOpenLoop(options: LoadOptions & { rate: number }): Promise<LoadResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections, scheduling: 'fifo' });
  const fixed = Array.isArray(options.next) ? options.next : undefined;
  const total = Math.max(1, Math.round(options.rate * options.durationSec));
  const settle = options.settleMs ?? 500;
  const latencies: number[] = [];
  const codes: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let timeouts = 0;
  let answered = 0;
  let sent = 0;
  let abandoned = 0;
  /** Requests not yet on a connection, and how to drop one. */
  const waiting = new Map<object, () => void>();

  const one = (due: number, spec: RequestSpec) =>
    new Promise<void>((resolve) => {
      // A request ends once: a timeout destroys it, and both the request and its response may then report
      // the same failure.
      let ended = false;
      const end = (outcome: () => void) => {
        if (ended) return;
        ended = true;
        outcome();
        resolve();
      };
      const failed = () => end(() => errors++);
      const headers: Record<string, string | number> = { ...(spec.headers ?? {}) };
      if (spec.body !== undefined) headers['content-length'] = Buffer.byteLength(spec.body);
      const req = request(
        { host: url.hostname, port: url.port, path: spec.path, method: spec.method, headers, agent, timeout: 10_000 },
        (res) => {
          res.resume();
          res.on('end', () =>
            end(() => {
              const status = res.statusCode ?? 0;
              codes[status] = (codes[status] ?? 0) + 1;
              answered++;
              if (status >= 200 && status < 300) {
                ok++;
                if (options.keepLatencies && due - started >= settle) latencies.push(performance.now() - due);
              }
            }),
          );
          res.on('error', failed);
        },
      );
      req.on('timeout', () => {
        if (!ended) timeouts++;
        req.destroy(new Error('timeout'));
      });
      req.on('error', failed);
      if (options.abandonQueuedAtEnd) {
        const drop = () =>
          end(() => {
            abandoned++;
            req.destroy();
          });
        waiting.set(req, drop);
        req.once('socket', () => waiting.delete(req));
      }
      req.end(spec.body);
    });

  const inFlight: Array<Promise<void>> = [];
  const started = performance.now() + 5;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      // Every request due by now goes out in this tick; a timer tick (~1 ms) is the arrivals' granularity.
      while (sent < total && started + (sent * 1000) / options.rate <= now) {
        const spec = fixed ? fixed[sent % fixed.length] : (options.next as () => RequestSpec)();
        inFlight.push(one(started + (sent * 1000) / options.rate, spec));
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
      else done();
    };
    setTimeout(tick, 5);
  });
  for (const drop of [...waiting.values()]) drop();
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const out: LoadResult = {
    requests: answered + errors,
    // Answers per second of the arrival window: a server that keeps up answers at the offered rate.
    rps: round(ok / Math.max(options.durationSec, seconds), 1),
    non2xx: answered - ok,
    errors: errors - timeouts,
    timeouts,
    ...(options.abandonQueuedAtEnd ? { abandoned } : {}),
    seconds: round(Math.max(options.durationSec, seconds), 2),
    statusCodes: codes,
  };
  if (options.keepLatencies && latencies.length > 0) {
    Object.defineProperty(out, 'latencies', { value: latencies, enumerable: false });
    addPercentiles(out, latencies);
  }
  return out;
}

/** Several runs of one target as one: counts added, percentiles over every latency. */
export function mergeRuns(runs: LoadResult[]): LoadResult {
  const latencies = runs.flatMap((r) => r.latencies ?? []);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const ok = runs.reduce((a, r) => a + r.rps * r.seconds, 0);
  const codes: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statusCodes)) codes[k] = (codes[k] ?? 0) + v;
  const out: LoadResult = {
    requests: runs.reduce((a, r) => a + r.requests, 0),
    rps: round(ok / seconds, 1),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    timeouts: runs.reduce((a, r) => a + r.timeouts, 0),
    seconds: round(seconds, 2),
    statusCodes: codes,
  };
  if (latencies.length > 0) addPercentiles(out, latencies);
  return out;
}

function addPercentiles(out: LoadResult, latencies: number[]): void {
  out.p50 = round(percentile(latencies, 50), 3);
  out.p90 = round(percentile(latencies, 90), 3);
  out.p99 = round(percentile(latencies, 99), 3);
  out.p999 = round(percentile(latencies, 99.9), 3);
  // A loop, not Math.max(...latencies): a long run's hundreds of thousands of arguments overflow the stack.
  out.max = round(
    latencies.reduce((a, b) => (b > a ? b : a), -Infinity),
    3,
  );
}
