import { execFile } from 'node:child_process';

const SCRIPT = `
const [url, n, init] = JSON.parse(process.argv[1]);
Promise.all(Array.from({ length: n }, () => fetch(url, init).then(async (r) => ({ status: r.status, body: await r.text() }))))
  .then((results) => process.stdout.write(JSON.stringify(results)));
`;

/**
 * Sends `n` identical requests at once from a separate process, as concurrent clients would: sent from the
 * test's own process, they would queue behind the server's work in one event loop and arrive spread out.
 */
export function burst(
  url: string,
  n: number,
  init: { method: string; headers?: Record<string, string>; body?: string },
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<Array<{ status: number; body: any }>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', SCRIPT, JSON.stringify([url, n, init])], (err: Error | null, stdout) => {
      if (err) return reject(err);
      const results = JSON.parse(stdout) as Array<{ status: number; body: string }>;
      resolve(results.map((r) => ({ status: r.status, body: r.body ? JSON.parse(r.body) : undefined })));
    });
  });
}
