import helmet from 'helmet';
import { ANSWER_HEADERS, staticSecurityHeaders } from './security-headers';

describe('staticSecurityHeaders', () => {
  const options = {
    contentSecurityPolicy: { directives: { defaultSrc: [`'self'`], frameAncestors: [`'none'`] } },
    crossOriginEmbedderPolicy: false,
  };

  it('holds exactly the headers the helmet middleware sets on a response', () => {
    const set = new Map<string, string>();
    helmet(options)(
      { headers: {} } as never,
      { setHeader: (k: string, v: string) => set.set(k.toLowerCase(), v), removeHeader: () => undefined } as never,
      () => undefined,
    );
    expect(staticSecurityHeaders(options)).toEqual(Object.fromEntries(set));
    expect(set.size).toBeGreaterThan(8);
  });

  it('follows the options (CSP directives, disabled headers)', () => {
    const headers = staticSecurityHeaders(options);
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['cross-origin-embedder-policy']).toBeUndefined();
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(Object.isFrozen(headers)).toBe(true);
  });

  it('leaves out upgrade-insecure-requests from the service’s own CSP', () => {
    // Swagger UI over plain http (not localhost) loaded its assets over https and stayed blank.
    expect(ANSWER_HEADERS['content-security-policy']).toContain("script-src 'self'");
    expect(ANSWER_HEADERS['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });

  it('refuses options helmet rejects instead of serving without headers', () => {
    expect(() => staticSecurityHeaders({ contentSecurityPolicy: { directives: { defaultSrc: ['self'] } } })).toThrow();
  });
});
