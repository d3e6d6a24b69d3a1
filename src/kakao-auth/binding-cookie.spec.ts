import type { FastifyReply, FastifyRequest } from 'fastify';
import { BINDING_COOKIE, ensureBinding } from './binding-cookie';

/** The Set-Cookie header ensureBinding writes for a request without a binding, under `publicUrl`. */
function setCookie(publicUrl: string, cookie?: string): string {
  const headers: Record<string, string> = {};
  const reply = { header: (name: string, value: string) => (headers[name] = value) } as unknown as FastifyReply;
  const request = { headers: cookie ? { cookie } : {} } as FastifyRequest;
  ensureBinding(request, reply, publicUrl);
  return headers['set-cookie'];
}

const attributes = (header: string) => header.split('; ').slice(1);

describe('the browser-binding cookie', () => {
  it('is scoped to /auth/kakao under a root PUBLIC_URL, HttpOnly, Lax, short-lived', () => {
    const header = setCookie('http://localhost:3000');
    expect(header).toMatch(new RegExp(`^${BINDING_COOKIE}=[A-Za-z0-9_-]{43}; `));
    expect(attributes(header)).toEqual(['Path=/auth/kakao', 'HttpOnly', 'SameSite=Lax', 'Max-Age=3600']);
  });

  it("over plain http, is scoped under PUBLIC_URL's path prefix, where the browser sees the callback", () => {
    expect(attributes(setCookie('http://auth.internal/svc'))).toEqual([
      'Path=/svc/auth/kakao',
      'HttpOnly',
      'SameSite=Lax',
      'Max-Age=3600',
    ]);
    expect(attributes(setCookie('http://auth.internal/a/b/'))[0]).toBe('Path=/a/b/auth/kakao');
  });

  // A security review planted an attacker's own binding through a sibling host and completed the attacker's
  // login in the victim's browser: under HTTPS the browser takes the cookie only from this very host.
  it('under HTTPS, is a __Host- cookie (Secure, Path=/), whatever the path prefix, and only that one is read', () => {
    for (const publicUrl of ['https://auth.example.com', 'https://auth.example.com/svc']) {
      const header = setCookie(publicUrl);
      expect(header).toMatch(new RegExp(`^__Host-${BINDING_COOKIE}=[A-Za-z0-9_-]{43}; `));
      expect(attributes(header)).toEqual(['Path=/', 'HttpOnly', 'SameSite=Lax', 'Max-Age=3600', 'Secure']);
    }
    const value = 'y'.repeat(43);
    // The unprefixed name, which any sibling host could set, is not taken: a new binding is issued.
    expect(setCookie('https://auth.example.com', `${BINDING_COOKIE}=${value}`)).not.toContain(value);
    expect(setCookie('https://auth.example.com', `__Host-${BINDING_COOKIE}=${value}`)).toContain(`=${value}; `);
  });

  it('keeps a valid binding the browser already has', () => {
    const value = 'x'.repeat(43);
    expect(setCookie('http://localhost:3000', `other=1; ${BINDING_COOKIE}=${value}`)).toMatch(
      new RegExp(`^${BINDING_COOKIE}=${value}; `),
    );
  });
});
