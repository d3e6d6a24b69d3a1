import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';

export const BINDING_COOKIE = 'kakao_auth_binding';
const VALUE = /^[A-Za-z0-9_-]{43}$/;
/**
 * Longer than a login transaction lives (10 minutes): a browser coming back late still sends the cookie, so
 * it is told STATE_EXPIRED (start again) rather than INVALID_STATE, which reads as an attack. The value only
 * binds; it grants nothing.
 */
export const BINDING_COOKIE_MAX_AGE_SECONDS = 3600;

/**
 * The cookie's name. Under HTTPS it carries the `__Host-` prefix (RFC 6265bis 4.1.3.2): browsers then take it
 * only from this host, over TLS, for Path=/ and without Domain, so a sibling subdomain (or an http page on the
 * path) cannot plant its own binding and bring login CSRF back. Plain http (development) cannot have it.
 */
export function bindingCookieName(publicUrl: string): string {
  return new URL(publicUrl).protocol === 'https:' ? `__Host-${BINDING_COOKIE}` : BINDING_COOKIE;
}

/** The browser-binding value of this request, if it carries a well-formed one. */
export function readBinding(request: FastifyRequest, publicUrl: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  const wanted = bindingCookieName(publicUrl);
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === wanted && VALUE.test(rest.join('='))) return rest.join('=');
  }
  return undefined;
}

/**
 * The cookie's attributes. HttpOnly and SameSite=Lax: sent on Kakao's top-level redirect back to the callback,
 * never readable by scripts. Under HTTPS, `__Host-`'s rules: Secure and Path=/. Over plain http its Path is
 * where the browser sees the login routes: under PUBLIC_URL's path when a reverse proxy serves the service
 * under a prefix (`http://host/svc` → `/svc/auth/kakao`), or the browser would not send it back to the callback.
 */
export function bindingCookieAttributes(publicUrl: string): string[] {
  const url = new URL(publicUrl);
  const common = ['HttpOnly', 'SameSite=Lax', `Max-Age=${BINDING_COOKIE_MAX_AGE_SECONDS}`];
  if (url.protocol === 'https:') return ['Path=/', ...common, 'Secure'];
  return [`Path=${url.pathname.replace(/\/+$/, '')}/auth/kakao`, ...common];
}

/**
 * Binds login transactions to the browser that started them (RFC 9700 4.7: a state alone does not stop
 * login CSRF if it can be replayed from another browser). Reused while valid so that two tabs can log in at
 * once.
 */
export function ensureBinding(request: FastifyRequest, reply: FastifyReply, publicUrl: string): string {
  const value = readBinding(request, publicUrl) ?? randomBytes(32).toString('base64url');
  const cookie = `${bindingCookieName(publicUrl)}=${value}; ${bindingCookieAttributes(publicUrl).join('; ')}`;
  void reply.header('set-cookie', cookie);
  return value;
}
