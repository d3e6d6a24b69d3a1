import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const MAIN_JS = path.join(ROOT, 'dist/src/main.js');

/** Tests that run the service as a process need the build; `npm test` builds first, a bare `jest` may not. */
export function ensureBuilt(): void {
  if (existsSync(MAIN_JS)) return;
  const r = spawnSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('nest build failed');
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<Finished>;
}

/**
 * Spawns a command with exactly `env` (plus PATH and HOME), collecting its output. `processGroup` makes it
 * lead a process group of its own, so a test can signal the group as a terminal's Ctrl+C does.
 */
export function run(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  options: { processGroup?: boolean } = {},
): Running {
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: options.processGroup ?? false,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Finished>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, output: () => ({ stdout, stderr }), exited };
}

export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return res;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
