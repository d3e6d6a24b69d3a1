/**
 * Small HTTP helpers for driving the emulator as a client would (its own contract tests, e2e tests and
 * benchmarks): PKCE pairs, the authorize step through the skip switches, and the code exchange.
 */
import { createHash, randomBytes } from 'node:crypto';
import { KakaoEmulator, startKakaoEmulator } from './index';
import type { KakaoEmulatorOptions, TokenResponse } from './types';

export const FORM = 'application/x-www-form-urlencoded;charset=utf-8';

/** The app most contract tests run (any keys, one redirect URI); `options` adds or changes what a test needs. */
export function startTestEmulator(options: Partial<KakaoEmulatorOptions> = {}): Promise<KakaoEmulator> {
  return startKakaoEmulator({
    restApiKey: 'rest-key',
    adminKey: 'admin-key',
    appId: '1234567',
    redirectUris: ['http://localhost/cb'],
    ...options,
  });
}

/** A `fetch` init for a form-encoded POST, as Kakao requires (KAKAO_API.md 2). */
export function formPost(
  params: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): RequestInit {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body.set(k, v);
  return { method: 'POST', headers: { 'content-type': FORM, ...headers }, body: body.toString() };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(emulator: KakaoEmulator, params: Record<string, string | undefined> = {}): URL {
  const url = new URL(`${emulator.url}/oauth/authorize`);
  const all: Record<string, string | undefined> = {
    client_id: emulator.config.restApiKey,
    redirect_uri: emulator.config.redirectUris[0],
    response_type: 'code',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

/**
 * Passes the authorize step as `userId` (skip switch `emulator_user`) and returns where Kakao sent the
 * browser. Throws unless the emulator answered with a redirect.
 */
export async function authorizeAs(
  emulator: KakaoEmulator,
  userId: string | undefined,
  params: Record<string, string | undefined> = {},
): Promise<URL> {
  const res = await fetch(authorizeUrl(emulator, { emulator_user: userId, ...params }), { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  return new URL(location);
}

export interface LoginOptions {
  scope?: string;
  nonce?: string;
  state?: string;
  pkce?: boolean;
  clientId?: string;
  redirectUri?: string;
  clientSecret?: string;
  extra?: Record<string, string | undefined>;
}

/** authorize + token for `userId`: the token answer, plus what was used along the way. */
export async function login(
  emulator: KakaoEmulator,
  userId: string,
  options: LoginOptions = {},
): Promise<{ tokens: TokenResponse; code: string; verifier?: string; status: number; raw: string }> {
  const pkce = options.pkce === false ? undefined : pkcePair();
  const redirectUri = options.redirectUri ?? emulator.config.redirectUris[0];
  const back = await authorizeAs(emulator, userId, {
    client_id: options.clientId ?? emulator.config.restApiKey,
    redirect_uri: redirectUri,
    scope: options.scope ?? 'openid profile_nickname profile_image account_email',
    nonce: options.nonce,
    state: options.state,
    code_challenge: pkce?.challenge,
    code_challenge_method: pkce ? 'S256' : undefined,
    ...options.extra,
  });
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`authorize gave no code: ${back.toString()}`);
  const res = await fetch(
    `${emulator.url}/oauth/token`,
    formPost({
      grant_type: 'authorization_code',
      client_id: options.clientId ?? emulator.config.restApiKey,
      redirect_uri: redirectUri,
      code,
      code_verifier: pkce?.verifier,
      client_secret: options.clientSecret ?? emulator.config.clientSecret,
    }),
  );
  const raw = await res.text();
  return { tokens: JSON.parse(raw) as TokenResponse, code, verifier: pkce?.verifier, status: res.status, raw };
}
