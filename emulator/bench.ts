/**
 * Throughput of the emulator's token endpoint, measured from another process over keep-alive HTTP:
 *
 *   EMULATOR_PORT=9181 taskset -c 0 node dist/emulator/main.js &       # the emulator on one core
 *   taskset -c 1 node dist/emulator/bench.js http://127.0.0.1:9181      # the load on another
 *
 * Codes are single-use, so the authorization_code runs first collect fresh codes through authorize (not
 * timed), then exchange them as fast as the emulator answers. Uses the runner's default keys (dev-rest-api-key).
 */
import { Agent, request } from 'node:http';

export const BENCH_PHASES = ['code', 'code-openid', 'refresh', 'refresh-openid'] as const;
export type BenchPhase = (typeof BENCH_PHASES)[number];

export interface BenchOptions {
  /** Which runs, in order (default all). */
  phases?: BenchPhase[];
  url: string;
  restApiKey?: string;
  clientSecret?: string;
  redirectUri?: string;
  userId?: string;
  concurrency?: number;
  durationMs?: number;
}

export interface BenchResult {
  name: string;
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  /** CPU seconds the emulator process spent (user + system, all its threads). */
  cpuSeconds: number;
  /** Requests per CPU second: the rate one dedicated core sustains, whatever else the machine runs. */
  perCpuSecond: number;
}

function post(agent: Agent, url: URL, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function get(agent: Agent, url: URL, path: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function cpuMicros(agent: Agent, url: URL): Promise<number> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: '/__emulator/process', method: 'GET' },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const { cpu } = JSON.parse(text) as { cpu: { user: number; system: number } };
  return cpu.user + cpu.system;
}

/** Runs `next()` from `concurrency` loops for `durationMs` (or until it returns undefined). */
async function drive(
  name: string,
  concurrency: number,
  durationMs: number,
  next: () => Promise<boolean> | undefined,
  cpu?: () => Promise<number>,
): Promise<BenchResult> {
  const cpuBefore = cpu ? await cpu() : 0;
  let requests = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + durationMs;
  const loop = async () => {
    while (Date.now() < deadline) {
      const p = next();
      if (!p) return;
      if (await p) requests += 1;
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuSeconds = cpu ? ((await cpu()) - cpuBefore) / 1e6 : 0;
  return {
    name,
    requests,
    errors,
    seconds,
    perSecond: Math.round(requests / seconds),
    cpuSeconds,
    perCpuSecond: cpuSeconds ? Math.round(requests / cpuSeconds) : 0,
  };
}

export async function benchmarkTokenEndpoint(options: BenchOptions): Promise<BenchResult[]> {
  const url = new URL(options.url);
  const restApiKey = options.restApiKey ?? 'dev-rest-api-key';
  const redirectUri = options.redirectUri ?? 'http://localhost:3000/auth/kakao/callback';
  const userId = options.userId ?? '4000000000000001001';
  const concurrency = options.concurrency ?? 64;
  const durationMs = options.durationMs ?? 5000;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const cpu = () => cpuMicros(agent, url);
  const secret = options.clientSecret ? `&client_secret=${encodeURIComponent(options.clientSecret)}` : '';

  async function codes(count: number, scope: string): Promise<string[]> {
    const out: string[] = [];
    let i = 0;
    await drive('authorize', concurrency, 600_000, () => {
      if (i >= count) return undefined;
      const n = i++;
      const q = new URLSearchParams({
        client_id: restApiKey,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope,
        nonce: `nonce-${n}`,
        emulator_user: userId,
      });
      return get(agent, url, `/oauth/authorize?${q.toString()}`).then((r) => {
        const code = r.location && new URL(r.location).searchParams.get('code');
        if (code) out.push(code);
        return Boolean(code);
      });
    });
    return out;
  }

  const exchange = async (name: string, scope: string, expected: number) => {
    const pool = await codes(expected, scope);
    let i = 0;
    return drive(
      name,
      concurrency,
      durationMs,
      () => {
        if (i >= pool.length) return undefined;
        const body = `grant_type=authorization_code&client_id=${restApiKey}${secret}&redirect_uri=${encodeURIComponent(redirectUri)}&code=${pool[i++]}`;
        return post(agent, url, '/oauth/token', body).then((r) => r.status === 200);
      },
      cpu,
    );
  };

  const refresh = async (name: string, scope: string) => {
    // A few logins, refreshed over and over (more than a month left: the refresh token stays the same).
    const refreshTokens: string[] = [];
    for (const code of await codes(concurrency, scope)) {
      const body = `grant_type=authorization_code&client_id=${restApiKey}${secret}&redirect_uri=${encodeURIComponent(redirectUri)}&code=${code}`;
      const r = await post(agent, url, '/oauth/token', body);
      refreshTokens.push((JSON.parse(r.text) as { refresh_token: string }).refresh_token);
    }
    let i = 0;
    return drive(
      name,
      concurrency,
      durationMs,
      () => {
        const token = refreshTokens[i++ % refreshTokens.length];
        return post(
          agent,
          url,
          '/oauth/token',
          `grant_type=refresh_token&client_id=${restApiKey}${secret}&refresh_token=${token}`,
        ).then((r) => r.status === 200);
      },
      cpu,
    );
  };

  const phases: Record<BenchPhase, () => Promise<BenchResult>> = {
    // Enough codes for the duration at a generous rate; a run stops early when they are used up.
    code: () => exchange('authorization_code, no openid', 'profile_nickname account_email', 120_000),
    'code-openid': () =>
      exchange(
        'authorization_code, openid (RS256 id_token, unique nonce)',
        'openid profile_nickname account_email',
        20_000,
      ),
    refresh: () => refresh('refresh_token, no openid', 'profile_nickname account_email'),
    'refresh-openid': () => refresh('refresh_token, openid (id_token)', 'openid profile_nickname account_email'),
  };
  const results: BenchResult[] = [];
  for (const phase of options.phases ?? BENCH_PHASES) results.push(await phases[phase]());
  agent.destroy();
  return results;
}

if (require.main === module) {
  const url = process.argv[2] ?? 'http://127.0.0.1:9080';
  benchmarkTokenEndpoint({
    url,
    clientSecret: process.env.KAKAO_CLIENT_SECRET,
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 64),
    durationMs: Number(process.env.BENCH_DURATION_MS ?? 5000),
    phases: process.env.BENCH_PHASES ? (process.env.BENCH_PHASES.split(',') as BenchPhase[]) : undefined,
  }).then(
    (results) => {
      for (const r of results) {
        process.stdout.write(
          `${r.name.padEnd(58)} ${String(r.perSecond).padStart(6)} req/s wall, ${String(r.perCpuSecond).padStart(6)} req per CPU-second` +
            `  (${r.requests} ok, ${r.errors} errors, ${r.seconds.toFixed(1)} s, ${r.cpuSeconds.toFixed(2)} CPU s)\n`,
        );
      }
    },
    (err: unknown) => {
      process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
