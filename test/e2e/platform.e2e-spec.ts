import { Housekeeping } from '../../src/database/housekeeping';
import { json, startTestApp, TestApp, waitForLogs } from '../support/app';
import { basic, call, signup } from '../support/http';
import { ProbeModule } from '../support/probe.module';

interface Operation {
  security?: Array<Record<string, unknown>>;
  requestBody?: unknown;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectErrorShape(body: Record<string, unknown>, status: number, code: string) {
  expect(body).toEqual(
    expect.objectContaining({ statusCode: status, code, message: expect.any(String), requestId: expect.any(String) }),
  );
  expect(Object.keys(body).sort()).toEqual(expect.arrayContaining(['code', 'message', 'requestId', 'statusCode']));
  for (const key of Object.keys(body)) expect(['statusCode', 'code', 'message', 'requestId', 'details']).toContain(key);
}

describe('platform: errors, request ids, metrics, logs, headers, docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      imports: [ProbeModule],
      env: {
        LOG_LEVEL: 'info',
        ALLOWED_RETURN_URLS: 'https://app.example.com/auth',
        SERVICE_CLIENTS: 'reports:tiny-secret,billing:a-long-random-client-secret',
      },
    });
  });
  afterAll(() => t.close());

  const post = (path: string, body: string, contentType = 'application/json') =>
    fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

  describe('error shape', () => {
    it('answers an unknown route with 404 NOT_FOUND in the error shape, request id in body and header', async () => {
      const res = await fetch(`${t.url}/no/such/route`);
      expect(res.status).toBe(404);
      const body = await json(res);
      expectErrorShape(body, 404, 'NOT_FOUND');
      expect(res.headers.get('x-request-id')).toBe(body.requestId);
      expect(res.headers.get('cache-control')).toBe('no-store');
    });

    it('rejects a DTO violation with 400 VALIDATION_FAILED and per-field details, without echoing values', async () => {
      const res = await post('/__probe/echo', JSON.stringify({ email: 'not-an-email', count: 99, note: 'x' }));
      expect(res.status).toBe(400);
      const body = await json(res);
      expectErrorShape(body, 400, 'VALIDATION_FAILED');
      const fields = (body.details as Array<{ field: string }>).map((d) => d.field).sort();
      expect(fields).toEqual(['count', 'email']);
      expect(JSON.stringify(body)).not.toContain('not-an-email');
    });

    it('rejects unknown fields (forbidNonWhitelisted)', async () => {
      const res = await post('/__probe/echo', JSON.stringify({ email: 'a@b.co', count: 1, note: 'x', isAdmin: true }));
      expect(res.status).toBe(400);
      const body = await json(res);
      expectErrorShape(body, 400, 'VALIDATION_FAILED');
      expect(body.details).toEqual([expect.objectContaining({ field: 'isAdmin' })]);
    });

    it('accepts a valid body (the probe echoes it)', async () => {
      const res = await post('/__probe/echo', JSON.stringify({ email: 'a@b.co', count: 3, note: 'x' }));
      expect(res.status).toBe(201);
      expect(await json(res)).toEqual({ email: 'a@b.co', count: 3, note: 'x' });
    });

    it('answers invalid JSON with 400 in the error shape', async () => {
      const res = await post('/__probe/echo', '{"email": "a@b.co",');
      expect(res.status).toBe(400);
      const body = await json(res);
      expectErrorShape(body, 400, 'VALIDATION_FAILED');
      expect(body.message).toMatch(/JSON/);
    });

    it.each(['text/plain', 'application/xml', 'application/octet-stream'])(
      'answers Content-Type %s with 415 in the error shape',
      async (type) => {
        const res = await post('/__probe/echo', 'email=a@b.co', type);
        expect(res.status).toBe(415);
        expectErrorShape(await json(res), 415, 'VALIDATION_FAILED');
      },
    );

    it('answers a form body with 415 where the API takes JSON, and takes it on introspection (RFC 7662)', async () => {
      const form = 'application/x-www-form-urlencoded';
      const res = await post('/auth/signup', 'email=form@example.com&password=long+enough+pass&name=x', form);
      expect(res.status).toBe(415);
      expectErrorShape(await json(res), 415, 'VALIDATION_FAILED');
      expect((await post('/__probe/echo', 'email=a@b.co', `${form}; charset=utf-8`)).status).toBe(415);
      const introspect = await fetch(`${t.url}/auth/introspect`, {
        method: 'POST',
        headers: { 'content-type': form, authorization: basic('billing', 'a-long-random-client-secret') },
        body: 'token=not-a-token',
      });
      expect({ status: introspect.status, body: await json(introspect) }).toEqual({
        status: 200,
        body: { active: false },
      });
    });

    it('takes an empty body sent as application/json as no body', async () => {
      const { accessToken } = await signup(t);
      const logout = await fetch(`${t.url}/auth/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      });
      expect(logout.status).toBe(204);
      // A route that needs a body refuses the missing one as a validation failure.
      const res = await post('/auth/login', '');
      expect(res.status).toBe(400);
      expectErrorShape(await json(res), 400, 'VALIDATION_FAILED');
    });

    it('answers a body over 64 KiB with 413 in the error shape', async () => {
      const big = JSON.stringify({ email: 'a@b.co', count: 1, note: 'x'.repeat(70 * 1024) });
      const res = await post('/__probe/echo', big);
      expect(res.status).toBe(413);
      expectErrorShape(await json(res), 413, 'VALIDATION_FAILED');
    });

    it('turns an unexpected error into 500 INTERNAL_ERROR with no internals, and logs it', async () => {
      const res = await fetch(`${t.url}/__probe/boom`);
      expect(res.status).toBe(500);
      const body = await json(res);
      expectErrorShape(body, 500, 'INTERNAL_ERROR');
      expect(body.message).toBe('Internal server error');
      expect(JSON.stringify(body)).not.toMatch(/hunter2|secret|stack|\.ts/);
      expect(t.logs.some((l) => l.msg === 'Unhandled error' && l.requestId === body.requestId)).toBe(true);
    });

    it("logs a failed query's kind, message and SQLSTATE, never its parameters or PostgreSQL's detail", async () => {
      const res = await fetch(`${t.url}/__probe/boom-query`);
      const body = await json(res);
      expectErrorShape(body, 500, 'INTERNAL_ERROR');
      const line = t.logs.find((l) => l.msg === 'Unhandled error' && l.requestId === body.requestId);
      expect(line?.err).toMatchObject({
        name: 'QueryFailedError',
        code: '23505',
        message: expect.stringContaining('members_email_key'),
      });
      expect(JSON.stringify(t.logs)).not.toContain('leaked.person');
    });
  });

  describe('request id', () => {
    it('keeps a sane incoming x-request-id', async () => {
      const res = await fetch(`${t.url}/nope`, { headers: { 'x-request-id': 'abc-123_X.y:z' } });
      expect(res.headers.get('x-request-id')).toBe('abc-123_X.y:z');
      expect((await json(res)).requestId).toBe('abc-123_X.y:z');
    });

    it.each([['with spaces'], ['a'.repeat(200)], ['<script>'], ['line\u00e9']])(
      'replaces an unsafe incoming id (%#) with a fresh UUID',
      async (incoming) => {
        const res = await fetch(`${t.url}/health/live`, { headers: { 'x-request-id': incoming } });
        expect(res.headers.get('x-request-id')).toMatch(UUID);
      },
    );

    it('makes a UUID when none is given, on successful answers too', async () => {
      const res = await fetch(`${t.url}/health/live`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toMatch(UUID);
    });
  });

  describe('metrics', () => {
    it('counts requests per route template and status, with latency histograms and Node metrics', async () => {
      await fetch(`${t.url}/health/live`);
      await fetch(`${t.url}/health/live`);
      await fetch(`${t.url}/definitely/unknown/123`);
      const res = await fetch(`${t.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      const live = text.match(/^http_requests_total\{method="GET",route="\/health\/live",status_code="200"\} (\d+)$/m);
      expect(Number(live?.[1])).toBeGreaterThanOrEqual(2);
      expect(text).toMatch(/^http_request_duration_seconds_bucket\{.*route="\/health\/live".*\} \d+$/m);
      expect(text).toMatch(/route="unmatched",status_code="404"/);
      expect(text).not.toContain('/definitely/unknown/123');
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    });
  });

  describe('logs', () => {
    it('never writes authorization headers, cookies, OAuth codes, states or tickets', async () => {
      const before = t.logs.length;
      await fetch(`${t.url}/__probe/limited?code=SECRETCODE123&state=SECRETSTATE456&ticket=SECRETTICKET789&x=1`, {
        headers: { authorization: 'Bearer SECRETBEARER000', cookie: 'sid=SECRETCOOKIE111' },
      });
      const written = JSON.stringify(t.logs.slice(before));
      expect(t.logs.length).toBeGreaterThan(before);
      expect(written).toContain('/__probe/limited');
      for (const secret of [
        'SECRETCODE123',
        'SECRETSTATE456',
        'SECRETTICKET789',
        'SECRETBEARER000',
        'SECRETCOOKIE111',
      ]) {
        expect(written).not.toContain(secret);
      }
      expect(written).toContain('[REDACTED]');
    });

    it('writes structured JSON lines carrying the request id and the client address', async () => {
      const res = await fetch(`${t.url}/nope`, {
        // Without TRUST_PROXY a forwarded address is the client's own claim, not logged as its address.
        headers: { 'x-request-id': 'log-correlation-1', 'x-forwarded-for': '203.0.113.7' },
      });
      expect(res.status).toBe(404);
      const [line] = await waitForLogs(t, (l) => (l.req as { id?: string } | undefined)?.id === 'log-correlation-1');
      expect(line).toEqual(expect.objectContaining({ level: expect.any(Number), res: { statusCode: 404 } }));
      expect((line.req as { remoteAddress?: string }).remoteAddress).toBe('127.0.0.1');
    });
  });

  describe('request context in logs', () => {
    it('binds a line logged inside a request to that request, and lines outside any request to none', async () => {
      const res = await fetch(`${t.url}/__probe/log`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'log-correlation-2' },
        body: JSON.stringify({ email: 'a@example.com', count: 1, note: 'context-1' }),
      });
      expect(res.status).toBe(201);
      const [line] = await waitForLogs(t, (l) => l.msg === 'probe line context-1');
      expect(line).toEqual(
        expect.objectContaining({
          level: 40,
          context: 'Probe',
          req: { id: 'log-correlation-2', method: 'POST', url: '/__probe/log', remoteAddress: '127.0.0.1' },
        }),
      );
      const started = t.logs.find((l) => l.msg === 'Nest application successfully started');
      expect(started).toBeDefined();
      expect(started!.req).toBeUndefined();
    });
  });

  describe('rate limiting', () => {
    it('answers 429 RATE_LIMITED with Retry-After once the limit is spent', async () => {
      // The logs test above spent one of the two requests of this window already.
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 3; i++) {
        last = await fetch(`${t.url}/__probe/limited`);
        statuses.push(last.status);
      }
      expect(statuses).toContain(429);
      expect(statuses[statuses.length - 1]).toBe(429);
      expectErrorShape(await json(last!), 429, 'RATE_LIMITED');
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('security headers', () => {
    it('sets helmet headers on every answer: success, refusal and unknown route', async () => {
      const answers = await Promise.all([
        fetch(`${t.url}/health/live`),
        fetch(`${t.url}/members/me`),
        fetch(`${t.url}/no/such/route`),
      ]);
      expect(answers.map((r) => r.status)).toEqual([200, 401, 404]);
      for (const res of answers) {
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
        expect(res.headers.get('x-powered-by')).toBeNull();
      }
    });

    it('forbids caching answers that carry tokens or personal data (RFC 6749 5.1)', async () => {
      const { email, password, refreshToken, accessToken } = await signup(t);
      const answers = [
        await call(t, 'POST', '/auth/login', { body: { email, password } }),
        await call(t, 'POST', '/auth/refresh', { body: { refreshToken } }),
        await call(t, 'GET', '/members/me', { token: accessToken }),
      ];
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
      for (const res of answers) {
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(res.headers.get('pragma')).toBe('no-cache');
      }
    });

    it('sends the same headers on what is refused before routing (a malformed URL)', async () => {
      const res = await fetch(`${t.url}/members/%zz`);
      expect(res.status).toBe(400);
      expectErrorShape(await json(res), 400, 'VALIDATION_FAILED');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
    });

    it('allows cross-origin calls, with credentials, from the front-ends of ALLOWED_RETURN_URLS only', async () => {
      const preflight = (origin: string) =>
        fetch(`${t.url}/auth/refresh`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      const allowed = await preflight('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      const other = await preflight('https://evil.example.com');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      // Preflight answers carry the request id and the security headers like every other answer.
      expect(allowed.headers.get('x-request-id')).toEqual(expect.any(String));
      expect(allowed.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('answers an OPTIONS that is no CORS preflight in the error shape', async () => {
      for (const headers of [{}, { origin: 'https://app.example.com' }] as Array<Record<string, string>>) {
        const res = await fetch(`${t.url}/terms`, { method: 'OPTIONS', headers });
        expect(res.status).toBe(400);
        const body = await json(res);
        expectErrorShape(body, 400, 'VALIDATION_FAILED');
        expect(res.headers.get('x-request-id')).toBe(body.requestId);
      }
    });
  });

  describe('Swagger', () => {
    it('serves the UI at /docs', async () => {
      const res = await fetch(`${t.url}/docs`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('swagger-ui');
    });

    it('serves the OpenAPI document with title, flows, security schemes and tags', async () => {
      const res = await fetch(`${t.url}/docs-json`);
      expect(res.status).toBe(200);
      const doc = await json(res);
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.info.title).toBe('Kakao Auth Service');
      expect(doc.info.description).toContain('Redirect flow');
      expect(doc.components.securitySchemes).toEqual({
        bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
        basic: expect.objectContaining({ type: 'http', scheme: 'basic' }),
      });
      expect(doc.tags.map((tag: { name: string }) => tag.name)).toEqual(
        expect.arrayContaining(['Operations', 'Kakao login']),
      );
      expect(doc.paths['/health/ready']).toBeDefined();
    });

    it('documents every operation of the contract (API.md) with a summary', async () => {
      const doc = await json(await fetch(`${t.url}/docs-json`));
      const contract = [
        'get /auth/kakao/login',
        'post /auth/kakao/authorize-url',
        'get /auth/kakao/callback',
        'post /auth/kakao/code',
        'post /auth/kakao/native',
        'post /auth/tickets/exchange',
        'post /auth/signup',
        'post /auth/login',
        'post /auth/email/verify',
        'post /auth/reactivate',
        'post /auth/link/confirm',
        'post /auth/link/verify',
        'post /auth/terms/agree',
        'post /auth/refresh',
        'post /auth/logout',
        'post /auth/introspect',
        'get /members/me',
        'delete /members/me',
        'post /members/me/kakao',
        'delete /members/me/kakao',
        'get /members/{id}',
        'get /terms',
        'get /members/me/terms',
        'post /members/me/terms',
        'delete /members/me/terms/{tag}',
        'post /members/me/terms/sync',
        'get /webhooks/kakao/unlink',
        'post /webhooks/kakao/unlink',
        'post /webhooks/kakao/account-events',
        'get /health/live',
        'get /health/ready',
        'get /metrics',
      ];
      const missing = contract.filter((op) => {
        const [method, path] = op.split(' ');
        return !doc.paths[path]?.[method]?.summary;
      });
      expect(missing).toEqual([]);
    });

    it('documents every error code, and the errors each operation shares, in the error shape', async () => {
      const doc = await json(await fetch(`${t.url}/docs-json`));
      // API.md's list of the codes other services may branch on.
      const contractCodes = `VALIDATION_FAILED UNAUTHENTICATED TOKEN_EXPIRED FORBIDDEN NOT_FOUND RATE_LIMITED
        INVALID_STATE STATE_EXPIRED RETURN_URL_NOT_ALLOWED REDIRECT_URI_NOT_ALLOWED TICKET_INVALID KAKAO_ACCESS_DENIED
        KAKAO_CONSENT_REQUIRED KAKAO_TOKEN_EXCHANGE_FAILED KAKAO_UNAVAILABLE ID_TOKEN_INVALID INVALID_CREDENTIALS
        EMAIL_TAKEN KAKAO_ALREADY_LINKED MEMBER_ALREADY_HAS_KAKAO LAST_LOGIN_METHOD RECERTIFICATION_REQUIRED
        REFRESH_TOKEN_INVALID REFRESH_TOKEN_REUSED UNKNOWN_TERM TERM_NOT_REVOCABLE WEBHOOK_UNAUTHORIZED
        SERVICE_UNAUTHORIZED INTERNAL_ERROR`.split(/\s+/);
      const documented = doc.components.schemas.ErrorResponse.properties.code.enum as string[];
      expect(documented).toEqual(expect.arrayContaining(contractCodes));
      expect(doc.info.description).toContain('`KAKAO_CONSENT_REQUIRED` | 403');
      const ops = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([p, item]) =>
        Object.entries(item).map(([method, op]) => ({ route: `${method} ${p}`, op })),
      );
      const errorRef = { $ref: '#/components/schemas/ErrorResponse' };
      for (const { route, op } of ops) {
        expect([route, op.responses['500']?.content?.['application/json']?.schema]).toEqual([route, errorRef]);
        const bearer = (op.security ?? []).some((s) => 'bearer' in s);
        if (bearer)
          expect([route, op.responses['401']?.description]).toEqual([route, expect.stringContaining('TOKEN_EXPIRED')]);
        // Kakao's unlink webhook answers every authenticated call 200, whatever its parameters.
        const neverRefused = route.endsWith(' /webhooks/kakao/unlink');
        if (op.requestBody && !neverRefused) expect([route, op.responses['400']]).toEqual([route, expect.anything()]);
        if (neverRefused) expect([route, op.responses['400']]).toEqual([route, undefined]);
      }
      // A Bearer token is optional where the contract says so.
      expect(doc.paths['/auth/kakao/authorize-url'].post.security).toEqual([{}, { bearer: [] }]);
      expect(doc.paths['/members/me'].get.security).toEqual([{ bearer: [] }]);
      const callback = doc.paths['/auth/kakao/callback'].get as Operation;
      expect(callback.responses['403'].description).toContain('KAKAO_ACCESS_DENIED');
      expect(callback.responses['502'].description).toContain('KAKAO_UNAVAILABLE');
      // Kakao down or in maintenance is a 503, a Kakao that does not answer a 504: both are in the document.
      for (const op of [callback, doc.paths['/members/me/terms/sync'].post as Operation]) {
        expect([op.responses['503']?.description, op.responses['504']?.description]).toEqual([
          expect.stringContaining('KAKAO_UNAVAILABLE'),
          expect.stringContaining('KAKAO_UNAVAILABLE'),
        ]);
      }
    });

    it('declares details as what the errors carry: a per-field list or an object', async () => {
      const doc = await json(await fetch(`${t.url}/docs-json`));
      const { code, details } = doc.components.schemas.ErrorResponse.properties;
      expect(details.type).toBeUndefined();
      expect(details.oneOf).toEqual([
        expect.objectContaining({
          type: 'array',
          items: expect.objectContaining({
            required: ['field', 'errors'],
            properties: {
              field: expect.objectContaining({ type: 'string' }),
              errors: expect.objectContaining({ type: 'array' }),
            },
          }),
        }),
        expect.objectContaining({ type: 'object' }),
      ]);
      expect(Array.isArray(details.example)).toBe(true);
      // Not one of API.md's codes: only the readiness check answers it, which the schema says.
      expect(code.enum).toContain('SERVICE_UNAVAILABLE');
      expect(code.description).toContain('SERVICE_UNAVAILABLE is only');
    });

    it('gives the path parameters an example', async () => {
      const doc = await json(await fetch(`${t.url}/docs-json`));
      // Nest puts a parameter's example in its schema, which is where Swagger UI reads it.
      const example = (path: string, method: string, name: string) =>
        (
          doc.paths[path][method].parameters as Array<{ name: string; in: string; schema?: { example?: unknown } }>
        ).find((p) => p.name === name && p.in === 'path')?.schema?.example;
      expect(example('/members/me/terms/{tag}', 'delete', 'tag')).toBe('marketing');
      expect(example('/members/{id}', 'get', 'id')).toMatch(UUID);
    });
  });

  describe('configuration', () => {
    it('warns once at startup about a short SERVICE_CLIENTS secret, naming the client, never the secret', () => {
      const warnings = t.logs.filter((l) => l.level === 40 && String(l.msg).startsWith('SERVICE_CLIENTS:'));
      expect(warnings.map((l) => l.msg)).toEqual([expect.stringContaining('client "reports" is shorter than 16')]);
      expect(JSON.stringify(t.logs)).not.toContain('tiny-secret');
    });
  });

  describe('housekeeping', () => {
    it('sweeps expired one-time rows and keeps live ones', async () => {
      const insert = (hash: string, expires: string) =>
        t.db.query(
          `INSERT INTO login_tickets (ticket_hash, outcome_sealed, expires_at) VALUES ($1, 'x', now() + $2::interval)`,
          [Buffer.from(hash), expires],
        );
      await insert('old-ticket', '-2 days');
      await insert('live-ticket', '1 minute');
      await insert('just-expired', '-1 minute');
      const deleted = await t.app.get(Housekeeping).run();
      expect(deleted.login_tickets).toBe(1);
      const left = await t.db.query(`SELECT convert_from(ticket_hash, 'UTF8') AS h FROM login_tickets ORDER BY 1`);
      expect(left.rows.map((r) => r.h)).toEqual(expect.arrayContaining(['just-expired', 'live-ticket']));
      expect(left.rows.map((r) => r.h)).not.toContain('old-ticket');
    });
  });

  describe('migrations', () => {
    it('applied every migration at start', async () => {
      const { rows } = await t.db.query('SELECT name FROM schema_migrations ORDER BY id');
      expect(rows.map((r) => r.name)).toContain('AuditEvents1763800000000');
      const table = await t.db.query(`SELECT to_regclass('public.audit_events') AS t`);
      expect(table.rows[0].t).toBe('audit_events');
    });
  });
});
