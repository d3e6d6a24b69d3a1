import { randomBytes } from 'node:crypto';
import type { TestApp } from './app';

/** A JSON call to the service; returns status, headers and the parsed body (undefined when empty). */
export async function call(
  t: TestApp,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export const basic = (name: string, secret: string) => `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;

export const uniqueEmail = (prefix = 'member') => `${prefix}.${randomBytes(5).toString('hex')}@example.com`;

/** Signs a new email member up and returns the LoginOutcome with the credentials used. */
export async function signup(t: TestApp, overrides: { email?: string; password?: string; name?: string } = {}) {
  const credentials = {
    email: overrides.email ?? uniqueEmail(),
    password: overrides.password ?? 'correct horse battery staple',
    name: overrides.name ?? '홍길동',
  };
  const res = await call(t, 'POST', '/auth/signup', { body: credentials });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    ...credentials,
    outcome: res.body,
    accessToken: res.body.tokens.accessToken as string,
    refreshToken: res.body.tokens.refreshToken as string,
  };
}

/** The decoded (unverified) parts of a JWT. */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}
