/**
 * Hostile input, everywhere (issue 10): property-based fuzzing of every endpoint of API.md with fast-check.
 *
 * The property, for every request: the answer is a documented success of that endpoint or a 4xx in the
 * error shape (`{statusCode, code, message, requestId, details?}`; the account status webhook may answer
 * RFC 8935's `400 {err, description}`), never a 5xx; and a refused request writes nothing: every table of
 * the service (members, identities, sessions, refresh tokens, terms, tickets, webhook inbox, audit events
 * except failed-login rows, …) and the job queue have the same fingerprint after it as before.
 *
 * `npm test` runs a bounded number of cases per property; `FUZZ_RUNS=2000` (or `npm run test:extended`)
 * runs many more, and `FUZZ_SEED=<seed>` replays the seed a failure reports.
 */
import { maxHeaderSize } from 'node:http';
import fc from 'fast-check';
import { QueueService } from '../../src/queue/queue.service';
import { MAIL_QUEUE } from '../../src/mail/mail.service';
import { TERMS_SYNC_QUEUE } from '../../src/terms/terms.service';
import { WEBHOOK_QUEUE } from '../../src/webhooks/kakao-webhooks.service';
import { keyId } from '../../src/tokens/access-token.service';
import { basic, signup } from '../support/http';
import {
  brokenCopy,
  closeFuzzAgent,
  contentType,
  DatabaseFingerprint,
  deeplyNested,
  describeExchange,
  errorShapeProblem,
  extraKey,
  fuzzParameters,
  headerSafe,
  hostileAuthorization,
  hostileEmail,
  hostileShortString,
  hostileShortValue,
  hostileString,
  invalidJson,
  isExtended,
  malformedJwt,
  mutatedBody,
  NASTY_STRINGS,
  pct,
  RawRequest,
  RawResponse,
  send,
  sendBytes,
  setErrorProblem,
  signedHostileJwt,
  weirdString,
} from '../support/fuzz';
import { ADMIN_KEY, APP_ID, FRONTEND, HYBRID_REDIRECT, KakaoTestBed, PERSONA, startWithKakao } from '../support/kakao';

const CLIENT = { name: 'fuzz', secret: 'fuzz-secret-0123456789abcdef' };
const KAKAO_AK = `KakaoAK ${ADMIN_KEY}`;
const JSON_TYPE = { 'content-type': 'application/json' };
/** A closed port: where the emulator's own delivery of a signed SET goes (the fuzz sends the token itself). */
const NOWHERE = 'http://127.0.0.1:9/';

/** How a caller proves who it is on an endpoint. */
type Auth = 'none' | 'bearer' | 'basic' | 'kakaoak';

interface Endpoint {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  auth: Auth;
  /** Answers of API.md that count as success for this endpoint. */
  success: number[];
  /** A plausible JSON body (POST), the start of every mutation. */
  template?: () => Record<string, unknown>;
  /** Never called with working credentials: success would end the fuzz member (withdrawal, logout). */
  destructive?: boolean;
  /** The account status webhook: RFC 8935 answers. */
  set?: boolean;
}

describe('hostile input fuzz: every endpoint answers a documented success or a 4xx in the error shape, and a refusal writes nothing', () => {
  let bed: KakaoTestBed;
  let fingerprint: DatabaseFingerprint;
  let current: Map<string, string>;
  let member: Awaited<ReturnType<typeof signup>>;
  /** Tokens of a real Kakao login at the emulator (native SDK flow). */
  let kakaoAccessToken: string;
  let endpoints: Endpoint[];
  const stats = { requests: 0, refused: 0, succeeded: 0, byStatus: new Map<number, number>() };
  /** The last exchanges, for the message of a failure. */
  const history: string[] = [];

  const url = () => bed.t.url;
  const credentials = (auth: Auth): Record<string, string> =>
    auth === 'bearer'
      ? { authorization: `Bearer ${member.accessToken}` }
      : auth === 'basic'
        ? { authorization: basic(CLIENT.name, CLIENT.secret) }
        : auth === 'kakaoak'
          ? { authorization: KAKAO_AK }
          : {};

  /** Waits for the jobs a successful request queued, so their writes are not blamed on the next request. */
  async function settle(): Promise<void> {
    const queue = bed.t.app.get(QueueService);
    for (const name of [WEBHOOK_QUEUE, MAIL_QUEUE, TERMS_SYNC_QUEUE]) await queue.drained(name, 20_000);
  }

  /**
   * Sends one request and checks the property. Throws (for fast-check to shrink) with the request and the
   * answer in the message.
   */
  async function check(
    req: RawRequest,
    expect: { success: number[]; set?: boolean },
    exchange: () => Promise<RawResponse> = () => send(url(), req),
  ): Promise<RawResponse> {
    const res = await exchange();
    stats.requests++;
    stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
    const succeeded = res.status >= 200 && res.status < 400;
    // The jobs a success queued write later: waited for, so their writes are not blamed on the next request.
    if (succeeded) await settle();
    const after = await fingerprint.take();
    const changed = DatabaseFingerprint.changed(current, after);
    current = after;
    history.push(describeExchange(req, res));
    if (history.length > 4) history.shift();
    const fail = (why: string) =>
      new Error(`${why}: ${describeExchange(req, res)}\nthe requests before it:\n${history.slice(0, -1).join('\n')}`);
    if (!succeeded) {
      stats.refused++;
      if (res.status < 400 || res.status >= 500) throw fail(`answered ${res.status}`);
      const problem = expect.set && !setErrorProblem(res) ? undefined : errorShapeProblem(res);
      if (problem) throw fail(`not in the error shape (${problem})`);
      if (changed.length) throw fail(`a refused request wrote to ${changed.join(', ')}`);
    } else {
      stats.succeeded++;
      if (!expect.success.includes(res.status)) throw fail(`${res.status} is not a documented success here`);
    }
    return res;
  }

  const endpoint = (method: Endpoint['method'], path: string) =>
    endpoints.find((e) => e.method === method && e.path === path)!;

  beforeAll(async () => {
    bed = await startWithKakao({ env: { SERVICE_CLIENTS: `${CLIENT.name}:${CLIENT.secret}` } });
    member = await signup(bed.t);
    kakaoAccessToken = (await bed.kakao.issueTokensFor(PERSONA.full)).access_token;
    fingerprint = await DatabaseFingerprint.create(bed.t.db);
    current = await fingerprint.take();
    const random43 = () => 'R'.repeat(43);
    endpoints = [
      // Kakao login
      { method: 'GET', path: '/auth/kakao/login', auth: 'none', success: [302] },
      {
        method: 'POST',
        path: '/auth/kakao/authorize-url',
        auth: 'none',
        success: [200],
        template: () => ({
          intent: 'login',
          returnTo: `${FRONTEND}/done`,
          prompt: 'none',
          scope: 'account_email',
          serviceTerms: 'service_2024',
        }),
      },
      { method: 'GET', path: '/auth/kakao/callback', auth: 'none', success: [200, 303] },
      {
        method: 'POST',
        path: '/auth/kakao/code',
        auth: 'none',
        success: [200],
        template: () => ({
          code: 'fuzz-code-0123456789',
          redirectUri: HYBRID_REDIRECT,
          codeVerifier: 'v'.repeat(43),
          nonce: 'n',
        }),
      },
      {
        method: 'POST',
        path: '/auth/kakao/native',
        auth: 'none',
        success: [200],
        template: () => ({ accessToken: kakaoAccessToken, idToken: 'e30.e30.e30', nonce: 'n' }),
      },
      {
        method: 'POST',
        path: '/auth/tickets/exchange',
        auth: 'none',
        success: [200],
        template: () => ({ ticket: random43() }),
      },
      // email members and continuations
      {
        method: 'POST',
        path: '/auth/signup',
        auth: 'none',
        success: [201],
        template: () => ({
          email: member.email,
          password: 'correct horse battery staple',
          name: '홍길동',
          agreedTags: ['service_2024', 'privacy_2024'],
        }),
      },
      {
        method: 'POST',
        path: '/auth/login',
        auth: 'none',
        success: [200],
        template: () => ({ email: member.email, password: 'not the password' }),
      },
      {
        method: 'POST',
        path: '/auth/email/verify',
        auth: 'none',
        success: [204],
        template: () => ({ token: random43() }),
      },
      {
        method: 'POST',
        path: '/auth/reactivate',
        auth: 'none',
        success: [200],
        template: () => ({ token: random43() }),
      },
      {
        method: 'POST',
        path: '/auth/link/confirm',
        auth: 'none',
        success: [200],
        template: () => ({ linkTicket: random43() }),
      },
      {
        method: 'POST',
        path: '/auth/link/verify',
        auth: 'none',
        success: [200],
        template: () => ({ linkTicket: random43(), email: member.email, password: member.password }),
      },
      {
        method: 'POST',
        path: '/auth/terms/agree',
        auth: 'none',
        success: [200],
        template: () => ({ termsTicket: random43(), tags: ['service_2024', 'privacy_2024'] }),
      },
      // tokens
      {
        method: 'POST',
        path: '/auth/refresh',
        auth: 'none',
        success: [200],
        template: () => ({ refreshToken: random43() }),
      },
      {
        method: 'POST',
        path: '/auth/logout',
        auth: 'bearer',
        destructive: true,
        success: [204],
        template: () => ({ refreshToken: random43(), everywhere: false }),
      },
      {
        method: 'POST',
        path: '/auth/introspect',
        auth: 'basic',
        success: [200],
        template: () => ({ token: member.accessToken }),
      },
      // members
      { method: 'GET', path: '/members/me', auth: 'bearer', success: [200] },
      { method: 'DELETE', path: '/members/me', auth: 'bearer', destructive: true, success: [204] },
      {
        method: 'POST',
        path: '/members/me/kakao',
        auth: 'bearer',
        success: [200],
        template: () => ({ code: 'fuzz-code-0123456789', redirectUri: HYBRID_REDIRECT, codeVerifier: 'v'.repeat(43) }),
      },
      { method: 'DELETE', path: '/members/me/kakao', auth: 'bearer', destructive: true, success: [204] },
      { method: 'GET', path: '/members/:id', auth: 'basic', success: [200] },
      // terms
      { method: 'GET', path: '/terms', auth: 'none', success: [200] },
      { method: 'GET', path: '/members/me/terms', auth: 'bearer', success: [200] },
      {
        method: 'POST',
        path: '/members/me/terms',
        auth: 'bearer',
        success: [200],
        template: () => ({ tags: ['marketing'] }),
      },
      { method: 'POST', path: '/members/me/terms/sync', auth: 'bearer', success: [200], template: () => ({}) },
      { method: 'DELETE', path: '/members/me/terms/:tag', auth: 'bearer', success: [204] },
      // webhooks
      { method: 'GET', path: '/webhooks/kakao/unlink', auth: 'kakaoak', success: [200] },
      {
        method: 'POST',
        path: '/webhooks/kakao/unlink',
        auth: 'kakaoak',
        success: [200],
        template: () => ({ app_id: APP_ID, user_id: '9000000000000000001', referrer_type: 'UNLINK_FROM_APPS' }),
      },
      { method: 'POST', path: '/webhooks/kakao/account-events', auth: 'none', set: true, success: [202] },
      // operations
      { method: 'GET', path: '/health/live', auth: 'none', success: [200] },
      { method: 'GET', path: '/health/ready', auth: 'none', success: [200] },
      { method: 'GET', path: '/metrics', auth: 'none', success: [200] },
      { method: 'GET', path: '/docs', auth: 'none', success: [200] },
      { method: 'GET', path: '/docs-json', auth: 'none', success: [200] },
    ];
  });

  afterAll(async () => {
    console.log(
      `fuzz: ${stats.requests} requests, ${stats.refused} refused, ${stats.succeeded} succeeded; statuses ${JSON.stringify(Object.fromEntries([...stats.byStatus].sort(([a], [b]) => a - b)))}`,
    );
    closeFuzzAgent();
    await bed?.close();
  });

  // Extended runs take minutes; bounded runs stay well inside Jest's default of this project.
  const timeout = isExtended() ? 3_600_000 : 120_000;

  it(
    'JSON bodies: missing, extra, wrong-typed, hostile and huge fields on every endpoint that takes a body',
    async () => {
      const withBody = endpoints.filter((e) => e.template);
      await fc.assert(
        fc.asyncProperty(
          fc
            .constantFrom(...withBody)
            .chain((e) =>
              fc.record({ e: fc.constant(e), body: mutatedBody(e.template!()), authenticated: fc.boolean() }),
            ),
          async ({ e, body, authenticated }) => {
            const auth = authenticated && !e.destructive ? credentials(e.auth) : {};
            await check({ method: e.method, path: e.path, headers: { ...JSON_TYPE, ...auth }, body }, e);
          },
        ),
        fuzzParameters(300),
      );
    },
    timeout,
  );

  it(
    'raw bodies: invalid JSON, wrong or missing content types and random bytes',
    async () => {
      const targets = endpoints.filter((e) => e.method !== 'GET');
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...targets),
          fc.option(contentType, { nil: undefined }),
          fc.oneof(invalidJson, malformedJwt, hostileString),
          fc.boolean(),
          async (e, type, body, authenticated) => {
            const headers = {
              ...(type === undefined ? {} : { 'content-type': type }),
              ...(authenticated && !e.destructive ? credentials(e.auth) : {}),
            };
            const path = e.path.replace(':tag', 'marketing');
            await check({ method: e.method, path, headers, body }, e);
          },
        ),
        fuzzParameters(250),
      );
    },
    timeout,
  );

  it(
    'deep, wide and form-encoded bodies: nesting to 30 000 levels, thousands of fields, repeated form keys',
    async () => {
      const withBody = endpoints.filter((e) => e.template);
      const formValue = fc.oneof(hostileShortString, fc.constantFrom('1', 'true', ''));
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...withBody).chain((e) => {
            const keys = [...Object.keys(e.template!()), 'x'];
            const key = fc.constantFrom(...keys);
            return fc.record({
              e: fc.constant(e),
              authenticated: fc.boolean(),
              req: fc.oneof(
                // a field nested deeply
                fc
                  .tuple(key, deeplyNested)
                  .map(([k, deep]) => ({ type: 'application/json', body: `{"${k}":${deep}}` })),
                // thousands of fields
                fc.integer({ min: 100, max: 3000 }).map((n) => ({
                  type: 'application/json',
                  body: JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]))),
                })),
                // a form body: repeated keys (arrays), bracket keys, hostile values
                fc
                  .array(
                    fc.tuple(
                      fc.oneof(
                        key,
                        key.map((k) => `${k}[]`),
                        key.map((k) => `${k}[a]`),
                        extraKey,
                      ),
                      formValue,
                    ),
                    {
                      maxLength: 8,
                    },
                  )
                  .map((pairs) => ({
                    type: 'application/x-www-form-urlencoded',
                    body: pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&'),
                  })),
              ),
            });
          }),
          async ({ e, authenticated, req }) => {
            const headers = {
              'content-type': req.type,
              ...(authenticated && !e.destructive ? credentials(e.auth) : {}),
            };
            await check({ method: e.method, path: e.path, headers, body: req.body }, e);
          },
        ),
        fuzzParameters(150),
      );
    },
    timeout,
  );

  it('answers every body over 64 KiB with 413 in the error shape, whatever its content type', async () => {
    const limit = 64 * 1024;
    for (const e of endpoints.filter((x) => x.method === 'POST')) {
      for (const type of ['application/json', 'application/x-www-form-urlencoded', 'application/secevent+jwt']) {
        for (const size of [limit + 1, 4 * limit]) {
          const body =
            type === 'application/json' ? JSON.stringify({ pad: 'x'.repeat(size) }).slice(0, size) : 'a'.repeat(size);
          const req = { method: 'POST', path: e.path, headers: { 'content-type': type, ...credentials(e.auth) }, body };
          const res = await check(req, { success: [] });
          expect(res.status).toBe(413);
        }
      }
    }
  });

  it(
    'Authorization headers: malformed Bearer, Basic and KakaoAK values on every endpoint that needs one',
    async () => {
      const guarded = endpoints.filter((e) => e.auth !== 'none').concat(endpoint('POST', '/auth/kakao/authorize-url'));
      const header = hostileAuthorization(brokenCopy(member.accessToken), ADMIN_KEY);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...guarded),
          header,
          // A second Authorization header: Node keeps only the first for most uses, the webhook guard sees both.
          fc.option(fc.tuple(fc.oneof(header, fc.constant(KAKAO_AK)), fc.boolean()), { nil: undefined }),
          async (e, hostile, second) => {
            const path = e.path.replace(':id', member.outcome.member.id).replace(':tag', 'marketing');
            // With intent link, authorize-url needs a member's token; the others get a body that would pass.
            const template = e.path === '/auth/kakao/authorize-url' ? { intent: 'link' } : e.template?.();
            const body = e.method === 'POST' ? JSON.stringify(template ?? {}) : undefined;
            // Two headers, the real admin key first, is still refused: exactly one header passes the webhook guard.
            const authorization = second ? [second[1] ? KAKAO_AK : hostile, second[0]] : hostile;
            const headers = { authorization, ...(body === undefined ? {} : JSON_TYPE) };
            const query =
              e.path === '/webhooks/kakao/unlink' && e.method === 'GET'
                ? `?app_id=${APP_ID}&user_id=9000000000000000001&referrer_type=UNLINK_FROM_APPS`
                : '';
            const res = await check({ method: e.method, path: path + query, headers, body }, { success: [] });
            // Headers together over Node's limit are refused before any guard runs, with 431 (in the error shape,
            // which check() asserts); the other headers of the request take well under 1 KiB.
            const authBytes = [authorization].flat().reduce((n, v) => n + Buffer.byteLength(v), 0);
            const refusals = authBytes > maxHeaderSize - 1024 ? [400, 401, 431] : [400, 401];
            expect(refusals).toContain(res.status);
          },
        ),
        fuzzParameters(300),
      );
    },
    timeout,
  );

  it(
    'malformed JWTs: as access tokens, in introspection, as Kakao id_tokens and as Security Event Tokens',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          malformedJwt,
          fc.constantFrom('bearer', 'introspect', 'id_token', 'set', 'refresh'),
          async (jwt, use) => {
            if (use === 'bearer') {
              // The regex of the Authorization header refuses some tokens before they are parsed: both are fine.
              const res = await check(
                { method: 'GET', path: '/members/me', headers: { authorization: headerSafe(`Bearer ${jwt}`) } },
                { success: [] },
              );
              expect([400, 401]).toContain(res.status);
            } else if (use === 'introspect') {
              const res = await check(
                {
                  method: 'POST',
                  path: '/auth/introspect',
                  headers: { ...JSON_TYPE, ...credentials('basic') },
                  body: JSON.stringify({ token: jwt }),
                },
                { success: [200] },
              );
              if (res.status === 200) expect(JSON.parse(res.text)).toEqual({ active: false });
            } else if (use === 'id_token') {
              const res = await check(
                {
                  method: 'POST',
                  path: '/auth/kakao/native',
                  headers: JSON_TYPE,
                  body: JSON.stringify({ accessToken: kakaoAccessToken, idToken: jwt }),
                },
                // An empty idToken counts as none (the native flow does not require one): a Kakao login.
                { success: jwt === '' ? [200] : [] },
              );
              if (jwt !== '') expect(res.status === 400 || res.status === 401).toBe(true);
            } else if (use === 'set') {
              const res = await check(
                {
                  method: 'POST',
                  path: '/webhooks/kakao/account-events',
                  headers: { 'content-type': 'application/secevent+jwt' },
                  body: jwt,
                },
                { success: [], set: true },
              );
              expect(setErrorProblem(res)).toBeUndefined();
            } else {
              await check(
                {
                  method: 'POST',
                  path: '/auth/refresh',
                  headers: JSON_TYPE,
                  body: JSON.stringify({ refreshToken: jwt }),
                },
                { success: [] },
              );
            }
          },
        ),
        fuzzParameters(250),
      );
    },
    timeout,
  );

  it(
    "JWTs signed with the service's own key but with hostile claims or kid are refused",
    async () => {
      const secret = bed.t.config.jwt.secret;
      await fc.assert(
        fc.asyncProperty(signedHostileJwt(secret, keyId(secret)), fc.boolean(), async (jwt, introspect) => {
          if (introspect) {
            const res = await check(
              {
                method: 'POST',
                path: '/auth/introspect',
                headers: { ...JSON_TYPE, ...credentials('basic') },
                body: JSON.stringify({ token: jwt }),
              },
              { success: [200] },
            );
            if (res.status === 200) expect(JSON.parse(res.text)).toEqual({ active: false });
          } else {
            const res = await check(
              { method: 'GET', path: '/members/me/terms', headers: { authorization: `Bearer ${jwt}` } },
              { success: [] },
            );
            expect([400, 401]).toContain(res.status);
          }
        }),
        fuzzParameters(120),
      );
    },
    timeout,
  );

  it(
    'Security Event Tokens signed with Kakao’s key but with hostile claims are accepted or refused cleanly',
    async () => {
      // The emulator takes a short name or anything with `://` as the event type.
      const eventUri = fc.oneof(
        fc.constantFrom('user-unlinked', 'tokens-revoked', 'account-disabled', 'user-profile-changed'),
        hostileShortString.map((s) => `https://schemas.example/${s}`),
        hostileShortString.map((s) => `${s}://`),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            userId: fc.oneof(fc.constant('9000000000000000002'), hostileShortString),
            event: eventUri,
            reason: fc.option(hostileShortString, { nil: undefined }),
            jti: fc.option(fc.oneof(hostileShortString, fc.uuid()), { nil: undefined }),
            audience: fc.option(fc.constantFrom('test-rest-api-key', APP_ID, '', 'other'), { nil: undefined }),
            eventData: fc.option(
              fc.dictionary(fc.oneof(extraKey, fc.constant('subject')), hostileShortValue, { maxKeys: 3 }),
              {
                nil: undefined,
              },
            ),
          }),
          async (input) => {
            // The emulator signs; its own delivery goes nowhere (a closed port) and the token is sent from here.
            const { token } = await bed.kakao.sendAccountStatusEvent(NOWHERE, input);
            const res = await check(
              {
                method: 'POST',
                path: '/webhooks/kakao/account-events',
                headers: { 'content-type': 'application/secevent+jwt' },
                body: token,
              },
              { success: [202], set: true },
            );
            if (res.status !== 202) expect(setErrorProblem(res)).toBeUndefined();
          },
        ),
        fuzzParameters(40),
      );
    },
    timeout,
  );

  it(
    'emails with control characters, invisible characters and Unicode confusables',
    async () => {
      const signupBody = (email: string) =>
        JSON.stringify({
          email,
          password: 'correct horse battery staple',
          name: '홍길동',
          agreedTags: ['service_2024', 'privacy_2024'],
        });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(hostileEmail(member.email), hostileEmail('admin@example.com'), weirdString),
          fc.constantFrom('signup', 'login', 'link/verify'),
          async (email, use) => {
            if (use === 'signup') {
              const res = await check(
                { method: 'POST', path: '/auth/signup', headers: JSON_TYPE, body: signupBody(email) },
                { success: [201] },
              );
              if (res.status === 201) {
                // An accepted address is a plain one: no controls or invisible characters stored or shown.
                const stored = JSON.parse(res.text).member.email as string;
                expect(stored).not.toMatch(/[\p{Cc}\p{Cf}\s]/u);
              }
            } else if (use === 'login') {
              const res = await check(
                {
                  method: 'POST',
                  path: '/auth/login',
                  headers: JSON_TYPE,
                  body: JSON.stringify({ email, password: member.password }),
                },
                { success: [200] },
              );
              if (res.status === 200 && JSON.parse(res.text).result === 'LOGGED_IN') {
                // Only an address that is the account's once normalised (NFKC, case, spaces) opens it.
                const norm = (s: string) => s.normalize('NFKC').trim().toLowerCase();
                expect(norm(JSON.parse(res.text).member.email as string)).toBe(norm(email));
              }
            } else {
              await check(
                {
                  method: 'POST',
                  path: '/auth/link/verify',
                  headers: JSON_TYPE,
                  body: JSON.stringify({ linkTicket: 'R'.repeat(43), email, password: member.password }),
                },
                { success: [] },
              );
            }
          },
        ),
        fuzzParameters(120),
      );
    },
    timeout,
  );

  /** A query string from pairs; hostile percent sequences are kept raw, anything Node cannot send is encoded. */
  const queryString = (pairs: Array<[string, string]>) =>
    pairs
      .map(([k, v]) => {
        const enc = (s: string) => (/^[\x21-\x7e]*$/.test(s) && !/[&#=]/.test(s) ? s : pct(s));
        return `${enc(k)}=${enc(v)}`;
      })
      .join('&');

  it(
    'query strings and path parameters: hostile, repeated, unknown and oversized values',
    async () => {
      const value = fc.oneof(
        hostileShortString,
        fc.constantFrom(`${FRONTEND}/x`, 'none', 'login', 'service_2024,marketing', 'account_email'),
      );
      const pairs = (keys: string[]) =>
        fc.array(fc.tuple(fc.oneof(fc.constantFrom(...keys), extraKey.map(headerSafe)), value), { maxLength: 6 });
      const cases: fc.Arbitrary<{ req: RawRequest; e: Endpoint }> = fc.oneof(
        pairs(['returnTo', 'prompt', 'scope', 'serviceTerms', 'service_terms']).map((p) => ({
          req: { method: 'GET', path: `/auth/kakao/login?${queryString(p)}` },
          e: endpoint('GET', '/auth/kakao/login'),
        })),
        fc
          .tuple(
            pairs(['code', 'state', 'error', 'error_description']),
            fc.option(hostileShortString, { nil: undefined }),
          )
          .map(([p, cookie]) => ({
            req: {
              method: 'GET',
              path: `/auth/kakao/callback?${queryString(p)}`,
              headers: Object.fromEntries(
                cookie === undefined ? [] : [['cookie', headerSafe(`kakao_auth_binding=${cookie}`)]],
              ),
            },
            e: endpoint('GET', '/auth/kakao/callback'),
          })),
        pairs(['app_id', 'user_id', 'referrer_type', 'group_user_token']).map((p) => ({
          req: { method: 'GET', path: `/webhooks/kakao/unlink?${queryString(p)}`, headers: credentials('kakaoak') },
          e: endpoint('GET', '/webhooks/kakao/unlink'),
        })),
        fc.oneof(hostileShortString, fc.uuid(), fc.uuid({ version: 4 })).map((id) => ({
          req: { method: 'GET', path: `/members/${pct(id)}`, headers: credentials('basic') },
          e: endpoint('GET', '/members/:id'),
        })),
        fc
          .oneof(hostileShortString, fc.constantFrom('marketing', 'location', 'service_2024', 'MARKETING'))
          .map((tag) => ({
            req: { method: 'DELETE', path: `/members/me/terms/${pct(tag)}`, headers: credentials('bearer') },
            e: endpoint('DELETE', '/members/me/terms/:tag'),
          })),
        fc
          .tuple(
            fc.constantFrom(
              '/terms',
              '/health/live',
              '/health/ready',
              '/metrics',
              '/docs',
              '/docs-json',
              '/members/me',
              '/members/me/terms',
            ),
            pairs(['format', 'tag', 'name']),
          )
          .map(([path, p]) => ({
            req: { method: 'GET', path: `${path}?${queryString(p)}`, headers: credentials(endpoint('GET', path).auth) },
            e: endpoint('GET', path),
          })),
      );
      await fc.assert(
        fc.asyncProperty(cases, async ({ req, e }) => {
          await check(req, e);
        }),
        fuzzParameters(250),
      );
    },
    timeout,
  );

  it(
    'unknown routes and methods answer 404 in the error shape',
    async () => {
      const known = [...new Set(endpoints.map((e) => e.path))];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('PUT', 'PATCH', 'GET', 'POST', 'DELETE'),
          fc.oneof(
            fc.constantFrom(...known).map((p) => p.replace(':id', 'x').replace(':tag', 'x')),
            fc
              .array(fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 12 })), {
                minLength: 1,
                maxLength: 4,
              })
              .map((parts) => `/${parts.map(pct).join('/')}`),
          ),
          async (method, path) => {
            const e = endpoints.find((x) => x.method === method && x.path === path);
            if (e) return; // a real route: the other properties cover it
            const res = await check({ method, path, headers: {} }, { success: [] });
            expect([400, 401, 404, 405]).toContain(res.status);
          },
        ),
        fuzzParameters(80),
      );
    },
    timeout,
  );

  /**
   * Counterexamples the fuzz found (each was a 5xx or an answer outside the error shape), kept as explicit
   * cases so they stay fixed whatever the random seed.
   */
  describe('regressions found by the fuzz', () => {
    const post = (path: string, body: unknown): RawRequest => ({
      method: 'POST',
      path,
      headers: JSON_TYPE,
      body: JSON.stringify(body),
    });
    const signupWith = (email: string) =>
      post('/auth/signup', { email, password: 'correct horse battery staple', name: '홍길동' });

    it.each([
      // validator's isEmail threw a URIError on a lone surrogate (500): the pipe now refuses what throws.
      ['a lone surrogate as sign-up email', () => signupWith('\ud800'), 400],
      ['a lone surrogate in an email address', () => signupWith('a\udfff@example.com'), 400],
      // A name went into the verification mail's job, whose JSON PostgreSQL refuses with an unpaired surrogate (500).
      [
        'a lone surrogate in a sign-up name',
        () =>
          post('/auth/signup', {
            email: 'half.emoji@example.com',
            password: 'correct horse battery staple',
            name: '홍\ud83d',
          }),
        400,
      ],
      // U+0000 reached PostgreSQL, which refuses it in text (500): the pipe refuses it in any field. The
      // other two were refused before (an unknown ticket, a foreign returnTo), now at the edge as well.
      ['U+0000 in a login email', () => post('/auth/login', { email: 'a\u0000@b.co', password: 'x' }), 400],
      [
        'U+0000 in a link/verify email',
        () => post('/auth/link/verify', { linkTicket: 'R'.repeat(43), email: '\u0000', password: 'x' }),
        400,
      ],
      [
        'U+0000 in an authorize-url returnTo',
        () => post('/auth/kakao/authorize-url', { intent: 'login', returnTo: `${FRONTEND}/\u0000` }),
        400,
      ],
      // The pipe's 400 for U+0000 in a query reached Kakao's unlink webhook, which must answer every
      // authenticated call 200 (KAKAO_API.md 7.1).
      [
        'U+0000 in the unlink webhook’s query',
        () => ({
          method: 'GET',
          path: '/webhooks/kakao/unlink?app_id=%00&user_id=%00&referrer_type=%00',
          headers: credentials('kakaoak'),
        }),
        200,
      ],
      // An optional field sent as JSON null passed @IsOptional and reached the returnTo check (500).
      [
        'a null returnTo in authorize-url',
        () => post('/auth/kakao/authorize-url', { intent: 'login', returnTo: null, prompt: 'none' }),
        200,
      ],
      // class-transformer recursed once per level and overflowed the stack (500) from ~2 000 levels on.
      [
        'a field nested 5 000 levels deep',
        () => ({
          method: 'POST',
          path: '/auth/tickets/exchange',
          headers: JSON_TYPE,
          body: `{"ticket":${'['.repeat(5000)}1${']'.repeat(5000)}}`,
        }),
        400,
      ],
      [
        'objects nested 5 000 levels deep',
        () => ({
          method: 'POST',
          path: '/auth/login',
          headers: JSON_TYPE,
          body: `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
        }),
        400,
      ],
      // RFC 5322 addresses the mailer refuses (quotes, spaces) were accepted, and the mail queueing threw (500).
      ['an apostrophe in a sign-up email', () => signupWith("'a@a.aa"), 400],
      ['a quoted local part with a space', () => signupWith('"a b"@example.com'), 400],
      // Invisible format characters passed IsEmail and NFKC: a look-alike of an existing address was stored.
      ['a soft hyphen in a sign-up email domain', () => signupWith(`${member.email.replace('@', '@\u00ad')}`), 400],
      ['a zero-width space in a sign-up email domain', () => signupWith(member.email.replace('@', '@\u200b')), 400],
      ['a bidi override in a sign-up email domain', () => signupWith(member.email.replace('@', '@\u202e')), 400],
      // A Kakao access token Kakao does not know was KAKAO_UNAVAILABLE (502); one that is not a header value too.
      ['an unknown Kakao access token', () => post('/auth/kakao/native', { accessToken: 'not-a-kakao-token' }), 401],
      ['a Kakao access token with a line break', () => post('/auth/kakao/native', { accessToken: 'a\nb' }), 400],
      ['a Kakao access token in Hangul', () => post('/auth/kakao/native', { accessToken: '한국' }), 400],
      // Fastify answered these before routing in its own shape, echoing the URL.
      [
        'a path parameter over 256 characters',
        () => ({ method: 'GET', path: `/members/${'A'.repeat(300)}`, headers: credentials('basic') }),
        414,
      ],
      [
        'a malformed percent-encoding in a path parameter',
        () => ({ method: 'GET', path: '/members/%zz', headers: credentials('basic') }),
        400,
      ],
      [
        'a truncated UTF-8 sequence in a path parameter',
        () => ({ method: 'DELETE', path: '/members/me/terms/%E0%A4%A', headers: credentials('bearer') }),
        400,
      ],
    ] as Array<[string, () => RawRequest, number]>)('%s', async (_name, req, status) => {
      const res = await check(req(), { success: status < 400 ? [status] : [] });
      expect(res.status).toBe(status);
    });

    it('a Security Event Token whose reason holds U+0000 is accepted (its write failed with a 500)', async () => {
      const { token } = await bed.kakao.sendAccountStatusEvent(NOWHERE, {
        userId: '9000000000000000003',
        reason: '\u0000',
      });
      const req = {
        method: 'POST',
        path: '/webhooks/kakao/account-events',
        headers: { 'content-type': 'application/secevent+jwt' },
        body: token,
      };
      expect((await check(req, { success: [202], set: true })).status).toBe(202);
    });

    it('headers over 16 KiB are refused by Node with 431 in the error shape (it had Fastify’s shape)', async () => {
      const req = { method: 'GET', path: '/members/me', headers: { authorization: `Bearer ${'A'.repeat(20_000)}` } };
      const res = await check(req, { success: [] }, () =>
        sendBytes(url(), `GET /members/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'A'.repeat(20_000)}\r\n\r\n`),
      );
      expect(res.status).toBe(431);
    });

    it.each([
      ['a malformed request line', 'GET /members/me HTTP/9.x\r\n\r\n'],
      [
        'a control character in a header',
        'GET /members/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\u0001b\r\n\r\n',
      ],
      ['a header without a name', 'GET /health/live HTTP/1.1\r\nHost: x\r\n: nameless\r\n\r\n'],
      ['a request line of garbage', '\u0000\u0001\u0002 garbage\r\n\r\n'],
    ])('%s is refused by Node with 400 in the error shape', async (_name, bytes) => {
      const res = await check({ method: 'RAW', path: JSON.stringify(bytes) }, { success: [] }, () =>
        sendBytes(url(), bytes),
      );
      expect(res.status).toBe(400);
    });
  });

  it('left the fuzz member working: its access token still opens GET /members/me', async () => {
    const res = await send(url(), { method: 'GET', path: '/members/me', headers: credentials('bearer') });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).id).toBe(member.outcome.member.id);
  });
});
