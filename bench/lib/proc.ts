import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export const hasTaskset = (): boolean => spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

/** The cores: the service under test and the baseline get SERVER_CORE, everything else the other one. */
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;
export const canPin = (): boolean => os.cpus().length >= 2 && hasTaskset();

export interface Child {
  proc: ChildProcess;
  pid: number;
  output: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node args…`, pinned to `core` with taskset when possible; keeps the last lines of its output. */
export function startNode(
  args: string[],
  options: { env: NodeJS.ProcessEnv; core?: number; name: string; echo?: boolean },
): Child {
  const pinned = options.core !== undefined && canPin();
  const cmd = pinned ? 'taskset' : process.execPath;
  const argv = pinned ? ['-c', String(options.core), process.execPath, ...args] : args;
  const proc = spawn(cmd, argv, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      output.push(line);
      if (output.length > 200) output.shift();
      if (options.echo) process.stderr.write(`[${options.name}] ${line}\n`);
    }
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    pid: proc.pid!,
    output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU seconds (user + system) a process has used, including its waited-for children. */
export function cpuSeconds(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11..14] = utime, stime, cutime, cstime (fields 14..17 of proc(5))
    const own = Number(fields[11]) + Number(fields[12]);
    const children = withChildren ? Number(fields[13]) + Number(fields[14]) : 0;
    return (own + children) / HZ;
  } catch {
    return 0;
  }
}

/** CPU seconds of a process tree (PostgreSQL: the postmaster, its live backends and those that exited). */
export function treeCpuSeconds(rootPid: number): number {
  let total = cpuSeconds(rootPid, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === rootPid) total += cpuSeconds(Number(entry));
    } catch {
      // gone
    }
  }
  return total;
}

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface CoreTimes {
  busy: number;
  total: number;
  /** Time the hypervisor ran something else while this virtual core wanted to run. */
  steal: number;
}

/** Busy, stolen and total jiffies per core from /proc/stat, to tell whether a core was saturated. */
export function coreTimes(): CoreTimes[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      // user nice system idle iowait irq softirq steal (proc(5))
      const v = l.trim().split(/\s+/).slice(1).map(Number);
      const idle = v[3] + (v[4] ?? 0);
      const total = v.reduce((a, b) => a + b, 0);
      return { busy: total - idle, total, steal: v[7] ?? 0 };
    });
}

/** The share of each core's time between two readings that was stolen by the hypervisor. */
export function coreSteal(before: CoreTimes[], after: CoreTimes[]): number[] {
  return after.map((a, i) => {
    const b = before[i] ?? { busy: 0, total: 0, steal: 0 };
    const total = a.total - b.total;
    return total > 0 ? Math.round(((a.steal - b.steal) / total) * 1000) / 1000 : 0;
  });
}

export function coreUtilisation(before: CoreTimes[], after: CoreTimes[]): number[] {
  return after.map((a, i) => {
    const b = before[i] ?? { busy: 0, total: 0, steal: 0 };
    const total = a.total - b.total;
    return total > 0 ? Math.round(((a.busy - b.busy) / total) * 1000) / 1000 : 0;
  });
}

export function postmasterPid(dataDir: string): number | undefined {
  const file = `${dataDir}/postmaster.pid`;
  if (!existsSync(file)) return undefined;
  return Number(readFileSync(file, 'utf8').split('\n')[0]);
}

export const uptime = (): string => spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
export const loadAverage = (): number[] => os.loadavg().map((l) => Math.round(l * 100) / 100);

/** The commit measured, marked when the tree had changes, so a report names the code it measured. */
export function commitMeasured(cwd: string): string | undefined {
  const git = (...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return undefined;
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' (with uncommitted changes)' : ''}`;
}

export async function waitForHttp(url: string, timeoutMs: number, child?: Child): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (child && (child.proc.exitCode !== null || child.proc.signalCode !== null)) {
      throw new Error(`process exited before ${url} answered:\n${child.output.slice(-30).join('\n')}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - started;
    } catch {
      // not yet
    }
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `${url} did not answer 200 within ${timeoutMs} ms${child ? `:\n${child.output.slice(-30).join('\n')}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
