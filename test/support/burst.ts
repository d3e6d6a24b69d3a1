import { execFile } from 'node:child_process';

const SCRIPT = `
const http = require('node:http');
const [url, n, init, warmUrl] = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: n });
const send = (target, options, body) =>
  new Promise((resolve, reject) => {
    const req = http.request(target, { agent, ...options }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
(async () => {
  // Open every connection first, so the burst itself leaves in one go, as from clients already connected.
  await Promise.all(Array.from({ length: n }, () => send(warmUrl, { method: 'GET' })));
  const results = await Promise.all(Array.from({ length: n }, () => send(url, { method: init.method, headers: init.headers }, init.body)));
  process.stdout.write(JSON.stringify(results));
  agent.destroy();
})();
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
    execFile(
      process.execPath,
      ['-e', SCRIPT, JSON.stringify([url, n, init, new URL('/health/live', url).toString()])],
      (err: Error | null, stdout) => {
        if (err) return reject(err);
        const results = JSON.parse(stdout) as Array<{ status: number; body: string }>;
        resolve(results.map((r) => ({ status: r.status, body: r.body ? JSON.parse(r.body) : undefined })));
      },
    );
  });
}
