import helmet, { HelmetOptions } from 'helmet';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** helmet's options for every response of the service (the bench's baseline sends the same headers). */
export const SECURITY_HEADER_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: [`'self'`],
      // Swagger UI injects inline styles; scripts stay same-origin only.
      styleSrc: [`'self'`, `'unsafe-inline'`],
      imgSrc: [`'self'`, 'data:', 'https:'],
      scriptSrc: [`'self'`],
      formAction: [`'self'`],
      frameAncestors: [`'none'`],
      // helmet's default would have browsers fetch the page's own assets over https: a service served over
      // plain http by address or internal name (a staging box, compose) then showed a blank Swagger UI. HTTPS
      // is the deployment's to enforce (TLS, HSTS), not the page's to guess.
      upgradeInsecureRequests: null,
    },
  },
  crossOriginEmbedderPolicy: false,
};

/**
 * The headers helmet sets for `options`, worked out once. Without nonces helmet's answer never depends on
 * the request, yet its middleware rebuilds and sets a dozen headers one `setHeader` at a time on every
 * request (4-5% of a POST /auth/introspect in the bench's profiles); one `reply.headers(...)` of this
 * object costs a fraction of that. Headers helmet would remove (X-Powered-By) are never set by Fastify.
 */
export function staticSecurityHeaders(options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader() {},
    getHeader: () => undefined,
  };
  let failure: unknown;
  let finished = false;
  helmet(options)({ headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    failure = err;
    finished = true;
  });
  // helmet answers synchronously; an options error or a future asynchronous middleware must not go unseen.
  if (failure || !finished) {
    const reason = failure instanceof Error ? failure.message : 'it did not answer synchronously';
    throw new Error(`helmet did not produce static headers: ${reason}`);
  }
  return Object.freeze(headers);
}

/**
 * What every answer of the service carries: helmet's headers, and no caching. Answers carry tokens (RFC 6749
 * 5.1 asks for Cache-Control: no-store and Pragma: no-cache there) or personal data, and none is meant for a
 * shared cache; a route that serves something cacheable says so itself.
 */
export const ANSWER_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...staticSecurityHeaders(SECURITY_HEADER_OPTIONS),
  'cache-control': 'no-store',
  pragma: 'no-cache',
});

export const isCorsPreflight = (headers: IncomingHttpHeaders): boolean =>
  headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
