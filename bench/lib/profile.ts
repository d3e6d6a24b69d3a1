/**
 * Reads the `.cpuprofile` files `node --cpu-prof` wrote and sums self time per function and per package
 * (node_modules/<name>, the service's own `dist/src/<folder>`, or Node's internals), plus the inclusive
 * time of a few frames that say where a request's time goes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { round } from './stats';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  requestsPerSecond?: number;
  badAnswers?: number;
  seconds: number;
  idlePct: number;
  topSelf: Array<{ name: string; location: string; selfPct: number }>;
  byPackage: Array<{ name: string; selfPct: number }>;
  /** Inclusive share of frames whose function or file matches well-known hot spots. */
  inclusive: Array<{ name: string; pct: number }>;
  /** Share of samples with at least one frame of the package on the stack (callbacks nest, so they overlap). */
  inclusiveByPackage: Array<{ name: string; pct: number }>;
}

export function packageOf(url: string): string {
  if (!url) return '(native/VM)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = url.indexOf('/dist/src/');
  if (src >= 0) return `service: src/${url.slice(src + 10).split('/')[0]}`;
  return path.basename(url);
}

const INCLUSIVE: Array<{ name: string; test: (n: CpuProfileNode['callFrame']) => boolean }> = [
  {
    name: 'AccessTokenGuard.canActivate (src/tokens/access-token.guard)',
    test: (f) => f.url.includes('tokens/access-token.guard') && f.functionName === 'canActivate',
  },
  {
    name: 'AccessTokenService.verify (src/tokens/access-token.service)',
    test: (f) => f.url.includes('tokens/access-token.service') && f.functionName === 'verify',
  },
  {
    name: 'AccessTokenService.issue (src/tokens/access-token.service)',
    test: (f) => f.url.includes('tokens/access-token.service') && f.functionName === 'issue',
  },
  {
    name: 'jsonwebtoken verify',
    test: (f) => f.url.includes('jsonwebtoken/verify.js') && f.functionName === 'module.exports',
  },
  {
    name: 'jsonwebtoken sign',
    test: (f) => f.url.includes('jsonwebtoken/sign.js') && f.functionName === 'module.exports',
  },
  {
    name: 'crypto createPublicKey/createPrivateKey (a string secret tried as a PEM key)',
    test: (f) => f.functionName === 'createPublicKey' || f.functionName === 'createPrivateKey',
  },
  { name: 'crypto createSecretKey', test: (f) => f.functionName === 'createSecretKey' },
  {
    name: 'MembersRepository.findById',
    test: (f) => f.url.includes('members/members.repository') && f.functionName === 'findById',
  },
  { name: 'SessionsRepository (isActive/rotate/…)', test: (f) => f.url.includes('tokens/sessions.repository') },
  {
    name: 'TypeORM DataSource/EntityManager/QueryRunner.query',
    test: (f) => f.url.includes('typeorm') && f.functionName === 'query',
  },
  { name: 'pg-protocol (parse/serialize)', test: (f) => /pg-protocol/.test(f.url) },
  {
    name: 'ValidationPipe.transform (class-validator + class-transformer)',
    test: (f) => f.url.includes('validation.pipe') && f.functionName === 'transform',
  },
  {
    name: 'ThrottlerGuard.canActivate',
    test: (f) => f.url.includes('@nestjs/throttler') && f.functionName === 'canActivate',
  },
  { name: 'request logging hook (src/logging)', test: (f) => f.url.includes('dist/src/logging/') },
  {
    name: 'metrics hook (src/metrics observeRequest)',
    test: (f) => f.url.includes('metrics/metrics.service') && f.functionName === 'observeRequest',
  },
  { name: 'helmet', test: (f) => f.url.includes('helmet') },
  { name: 'toMemberDto (src/members/dto)', test: (f) => f.url.includes('members/dto/member.dto') },
  { name: 'fastify reply serialisation', test: (f) => f.url.includes('fastify/lib/reply') },
  { name: 'garbage collector', test: (f) => f.functionName === '(garbage collector)' },
];

export function analyseProfile(dir: string, window?: { from: number; to: number }): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  const file = path.join(dir, files[0]);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<number, number>();
  let total = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (window && (at < window.from || at > window.to)) continue;
    total += dt;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  let idle = 0;
  const fnSelf = new Map<string, { name: string; location: string; t: number }>();
  const pkgSelf = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const pkgInclusive = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    if (f.functionName === '(idle)' || f.functionName === '(program)') {
      if (f.functionName === '(idle)') idle += t;
    }
    const location = f.url ? `${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName}|${location}`;
    const entry = fnSelf.get(key) ?? { name: f.functionName || '(anonymous)', location, t: 0 };
    entry.t += t;
    fnSelf.set(key, entry);
    const pkg = f.functionName.startsWith('(') ? f.functionName : packageOf(f.url);
    pkgSelf.set(pkg, (pkgSelf.get(pkg) ?? 0) + t);
    // Inclusive: count each matching rule once per stack.
    const seen = new Set<string>();
    const seenPkg = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (frame.url && !frame.url.startsWith('node:')) {
        const pkg = packageOf(frame.url);
        if (!seenPkg.has(pkg)) {
          seenPkg.add(pkg);
          pkgInclusive.set(pkg, (pkgInclusive.get(pkg) ?? 0) + t);
        }
      }
      for (const rule of INCLUSIVE) {
        if (!seen.has(rule.name) && rule.test(frame)) {
          seen.add(rule.name);
          inclusive.set(rule.name, (inclusive.get(rule.name) ?? 0) + t);
        }
      }
    }
  }
  const busy = total - idle;
  const pct = (t: number) => round((t / busy) * 100, 1);
  return {
    file,
    seconds: round(total / 1e6, 1),
    idlePct: round((idle / total) * 100, 1),
    topSelf: [...fnSelf.values()]
      .filter((e) => e.name !== '(idle)')
      .sort((a, b) => b.t - a.t)
      .slice(0, 40)
      .map((e) => ({ name: e.name, location: e.location, selfPct: pct(e.t) })),
    byPackage: [...pkgSelf.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([name, t]) => ({ name, selfPct: pct(t) })),
    inclusive: [...inclusive.entries()].sort((a, b) => b[1] - a[1]).map(([name, t]) => ({ name, pct: pct(t) })),
    inclusiveByPackage: [...pkgInclusive.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([name, t]) => ({ name, pct: pct(t) })),
  };
}

if (require.main === module) {
  const s = analyseProfile(process.argv[2] ?? '.');
  process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
}
