/** The load generator's side of the Kakao emulator: codes for the hybrid flow, faults, call counts. */
import { Agent, request } from 'node:http';
import { kakaoId, LOGIN_MEMBERS } from './fixtures';
import { HYBRID_REDIRECT, REST_API_KEY } from './environment';

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

function get(url: URL): Promise<{ status: number; location?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Scope of the front-end's authorize request: an OIDC login with the required email item. */
export const LOGIN_SCOPE = 'openid profile_nickname account_email';

let personaCursor = 0;

/**
 * `count` fresh authorization codes (single use, 10 minutes), as a front-end's Kakao JavaScript SDK would
 * get them: authorize with the emulator's `emulator_user` skip switch, for the login personas in turn.
 */
export async function authorizationCodes(emulatorUrl: string, count: number): Promise<string[]> {
  const codes: string[] = [];
  let issued = 0;
  const worker = async () => {
    while (issued < count) {
      issued++;
      const user = kakaoId(LOGIN_MEMBERS.from + (personaCursor++ % LOGIN_MEMBERS.count));
      const url = new URL('/oauth/authorize', emulatorUrl);
      url.search = new URLSearchParams({
        client_id: REST_API_KEY,
        redirect_uri: HYBRID_REDIRECT,
        response_type: 'code',
        scope: LOGIN_SCOPE,
        emulator_user: user,
      }).toString();
      const res = await get(url);
      const code = res.location ? new URL(res.location).searchParams.get('code') : null;
      if (!code) throw new Error(`emulator gave no code (${res.status}): ${res.text.slice(0, 200)}`);
      codes.push(code);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return codes;
}

export async function emulatorCalls(emulatorUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${emulatorUrl}/__emulator/calls`);
  return (await res.json()) as Record<string, number>;
}

export function diffCalls(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0 && !k.includes('/oauth/authorize')) out[k] = d;
  }
  return out;
}

export async function injectDelay(emulatorUrl: string, path: string, delayMs: number): Promise<void> {
  const res = await fetch(`${emulatorUrl}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path, delayMs }),
  });
  if (!res.ok) throw new Error(`fault injection failed: ${res.status} ${await res.text()}`);
}

export async function clearFaults(emulatorUrl: string): Promise<void> {
  await fetch(`${emulatorUrl}/__emulator/faults`, { method: 'DELETE' });
}
