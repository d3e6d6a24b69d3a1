import { createHash, randomBytes } from 'node:crypto';
import { json } from '../support/app';
import { call, decodeJwt } from '../support/http';
import {
  browserLogin,
  FRONTEND,
  HYBRID_REDIRECT,
  hybridCode,
  KakaoTestBed,
  PERSONA,
  startWithKakao,
} from '../support/kakao';
import { LOGIN_TRANSACTION_TTL_SECONDS } from '../../src/kakao-auth/kakao.strategy';

describe('Kakao login', () => {
  let bed: KakaoTestBed;

  /** Refused by validation, before any call to Kakao. */
  async function expectValidationFailed(path: string, body: Record<string, unknown>): Promise<void> {
    const res = await call(bed.t, 'POST', path, { body });
    expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 400, code: 'VALIDATION_FAILED' });
  }
  beforeAll(async () => {
    bed = await startWithKakao({ env: { KAKAO_HTTP_TIMEOUT_MS: '800', LOG_LEVEL: 'warn' } });
  });
  afterAll(() => bed.close());
  afterEach(() => bed.kakao.clearFaults());

  const count = async (table: string) =>
    (await bed.t.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

  describe('redirect flow', () => {
    it('sends the browser to Kakao with state, nonce, PKCE S256 and a binding cookie', async () => {
      const res = await fetch(`${bed.t.url}/auth/kakao/login`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const url = new URL(res.headers.get('location')!);
      expect(url.origin + url.pathname).toBe(`${bed.kakao.url}/oauth/authorize`);
      const q = url.searchParams;
      expect(q.get('client_id')).toBe('test-rest-api-key');
      expect(q.get('response_type')).toBe('code');
      expect(q.get('redirect_uri')).toBe('http://127.0.0.1:3000/auth/kakao/callback');
      expect(q.get('code_challenge_method')).toBe('S256');
      expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(q.get('state')!, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(Buffer.from(q.get('nonce')!, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(q.get('scope')!.split(' ')).toEqual(
        expect.arrayContaining(['openid', 'profile_nickname', 'account_email']),
      );
      const cookie = res.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^kakao_auth_binding=[A-Za-z0-9_-]{43}; /);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Lax');
    });

    it('signs a new Kakao user up, then logs them in, answering JSON without a returnTo', async () => {
      const first = await browserLogin(bed, { userId: PERSONA.lunarLeap });
      expect(first.callback.status).toBe(200);
      expect(first.callback.headers.get('cache-control')).toBe('no-store');
      expect(first.callback.headers.get('referrer-policy')).toBe('no-referrer');
      const signedUp = await json(first.callback);
      expect(signedUp.result).toBe('SIGNED_UP');
      expect(signedUp.member).toMatchObject({
        email: 'tube@kakao.example',
        emailVerified: true,
        name: '정튜브',
        loginMethods: ['kakao'],
        profile: { birthday: '0415', birthdayType: 'LUNAR', isLeapMonth: true, nickname: '튜브' },
        identities: [{ provider: 'kakao', providerUserId: PERSONA.lunarLeap }],
      });
      expect(decodeJwt(signedUp.tokens.accessToken).payload.amr).toEqual(['kakao']);

      const second = await browserLogin(bed, { userId: PERSONA.lunarLeap });
      const loggedIn = await json(second.callback);
      expect(loggedIn.result).toBe('LOGGED_IN');
      expect(loggedIn.member.id).toBe(signedUp.member.id);
      const me = await call(bed.t, 'GET', '/members/me', { token: loggedIn.tokens.accessToken });
      expect(me.body.identities[0].providerUserId).toBe(PERSONA.lunarLeap);
    });

    it('returns to returnTo with a one-time ticket, never tokens in the URL', async () => {
      const { callback } = await browserLogin(bed, { userId: PERSONA.full, returnTo: `${FRONTEND}/done` });
      expect(callback.status).toBe(303);
      const location = new URL(callback.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(`${FRONTEND}/done`);
      expect([...location.searchParams.keys()]).toEqual(['ticket']);
      const ticket = location.searchParams.get('ticket')!;
      const exchanged = await call(bed.t, 'POST', '/auth/tickets/exchange', { body: { ticket } });
      expect(exchanged.status).toBe(200);
      expect(['SIGNED_UP', 'LOGGED_IN']).toContain(exchanged.body.result);
      expect(exchanged.body.tokens.accessToken).toEqual(expect.any(String));
      const again = await call(bed.t, 'POST', '/auth/tickets/exchange', { body: { ticket } });
      expect(again.status).toBe(400);
      expect(again.body.code).toBe('TICKET_INVALID');
    });

    it('refuses a returnTo outside ALLOWED_RETURN_URLS before anything is stored', async () => {
      const before = await count('login_transactions');
      for (const returnTo of ['https://evil.example.com/auth', 'https://app.example.com/authx', '//evil.example.com']) {
        const res = await call(bed.t, 'GET', `/auth/kakao/login?returnTo=${encodeURIComponent(returnTo)}`);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('RETURN_URL_NOT_ALLOWED');
      }
      expect(await count('login_transactions')).toBe(before);
    });

    it('refuses a replayed state, without calling Kakao again', async () => {
      const { kakaoRedirect, cookie } = await browserLogin(bed, { userId: PERSONA.full });
      const tokenCalls = bed.kakao.callCount('POST', '/oauth/token');
      const replay = await call(bed.t, 'GET', `/auth/kakao/callback${kakaoRedirect.search}`, { headers: { cookie } });
      expect(replay.status).toBe(400);
      expect(replay.body.code).toBe('INVALID_STATE');
      expect(bed.kakao.callCount('POST', '/oauth/token')).toBe(tokenCalls);
    });

    it('refuses a state from another browser (no or another binding cookie) and an unknown state', async () => {
      const start = await fetch(`${bed.t.url}/auth/kakao/login`, { redirect: 'manual' });
      const authorize = new URL(start.headers.get('location')!);
      authorize.searchParams.set('emulator_user', PERSONA.full);
      const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
      const foreign = await call(bed.t, 'GET', `/auth/kakao/callback${back.search}`, {
        headers: { cookie: `kakao_auth_binding=${randomBytes(32).toString('base64url')}` },
      });
      expect(foreign.body.code).toBe('INVALID_STATE');
      const unknown = await call(
        bed.t,
        'GET',
        `/auth/kakao/callback?code=x&state=${randomBytes(32).toString('base64url')}`,
      );
      expect(unknown.body.code).toBe('INVALID_STATE');
      const missing = await call(bed.t, 'GET', `/auth/kakao/callback?code=x`);
      expect(missing.body.code).toBe('INVALID_STATE');
    });

    it('refuses an expired state as STATE_EXPIRED, with the cookie a late browser still holds', async () => {
      const start = await fetch(`${bed.t.url}/auth/kakao/login`, { redirect: 'manual' });
      const cookie = start.headers.get('set-cookie')!.split(';')[0];
      // The cookie outlives the transaction: otherwise a browser back after 10 minutes sends none and can only
      // be told INVALID_STATE.
      const maxAge = Number(/Max-Age=(\d+)/.exec(start.headers.get('set-cookie')!)![1]);
      expect(maxAge).toBeGreaterThan(LOGIN_TRANSACTION_TTL_SECONDS);
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      await bed.t.db.query(`UPDATE login_transactions SET expires_at = now() - interval '1 second'`);
      const res = await call(bed.t, 'GET', `/auth/kakao/callback?code=x&state=${state}`, { headers: { cookie } });
      expect(res.body.code).toBe('STATE_EXPIRED');
    });

    /** A login started with a returnTo, its state and cookie: the callback can then be called by hand. */
    async function startedWithReturnTo() {
      const start = await fetch(`${bed.t.url}/auth/kakao/login?returnTo=${encodeURIComponent(`${FRONTEND}/done`)}`, {
        redirect: 'manual',
      });
      const cookie = start.headers.get('set-cookie')!.split(';')[0];
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      return { cookie, state };
    }

    const errorOf = (res: Response) => {
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(`${FRONTEND}/done`);
      expect([...location.searchParams.keys()]).toEqual(['error']);
      return location.searchParams.get('error');
    };

    it('sends an expired or foreign state back to its returnTo with ?error=', async () => {
      const expired = await startedWithReturnTo();
      await bed.t.db.query(`UPDATE login_transactions SET expires_at = now() - interval '1 second'`);
      const late = await fetch(`${bed.t.url}/auth/kakao/callback?code=x&state=${expired.state}`, {
        redirect: 'manual',
        headers: { cookie: expired.cookie },
      });
      expect(errorOf(late)).toBe('STATE_EXPIRED');

      const foreign = await startedWithReturnTo();
      const elsewhere = await fetch(`${bed.t.url}/auth/kakao/callback?code=x&state=${foreign.state}`, {
        redirect: 'manual',
        headers: { cookie: `kakao_auth_binding=${randomBytes(32).toString('base64url')}` },
      });
      expect(errorOf(elsewhere)).toBe('INVALID_STATE');
    });

    it.each([
      ['access_denied', 'KAKAO_ACCESS_DENIED'],
      ['consent_required', 'KAKAO_CONSENT_REQUIRED'],
      ['login_required', 'KAKAO_CONSENT_REQUIRED'],
      ['interaction_required', 'KAKAO_CONSENT_REQUIRED'],
      ['account_selection_required', 'KAKAO_CONSENT_REQUIRED'],
      ['server_error', 'KAKAO_UNAVAILABLE'],
      ['temporarily_unavailable', 'KAKAO_UNAVAILABLE'],
      ['invalid_scope', 'KAKAO_TOKEN_EXCHANGE_FAILED'],
    ])("maps Kakao's authorize error %s to %s", async (error, code) => {
      const { cookie, state } = await startedWithReturnTo();
      const res = await fetch(`${bed.t.url}/auth/kakao/callback?error=${error}&state=${state}`, {
        redirect: 'manual',
        headers: { cookie },
      });
      expect(errorOf(res)).toBe(code);
    });

    it('ignores query parameters it does not know on the two browser routes, and still checks the known ones', async () => {
      const members = await count('members');
      const start = await fetch(`${bed.t.url}/auth/kakao/login?utm_source=newsletter&utm_campaign=x`, {
        redirect: 'manual',
      });
      expect(start.status).toBe(302);
      const cookie = start.headers.get('set-cookie')!.split(';')[0];
      const authorize = new URL(start.headers.get('location')!);
      expect(authorize.searchParams.has('utm_source')).toBe(false);
      authorize.searchParams.set('emulator_user', PERSONA.noName);
      const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
      // Kakao adds its own fields beside the documented ones.
      const res = await call(bed.t, 'GET', `/auth/kakao/callback${back.search}&error_code=KOE101&foo=1`, {
        headers: { cookie },
      });
      expect(res.status).toBe(200);
      expect(['SIGNED_UP', 'LOGGED_IN']).toContain(res.body.result);
      expect(await count('members')).toBeGreaterThanOrEqual(members);

      const badPrompt = await call(bed.t, 'GET', '/auth/kakao/login?utm_source=x&prompt=sometimes');
      expect(badPrompt.status).toBe(400);
      expect(badPrompt.body.code).toBe('VALIDATION_FAILED');
      const twoStates = await call(bed.t, 'GET', '/auth/kakao/callback?state=a&state=b&foo=1');
      expect(twoStates.status).toBe(400);
      expect(twoStates.body.code).toBe('VALIDATION_FAILED');
    });

    it('answers KAKAO_ACCESS_DENIED (not an outage) for a dormant Kakao account (-103)', async () => {
      const members = await count('members');
      const { callback } = await browserLogin(bed, { userId: PERSONA.dormant });
      expect(callback.status).toBe(403);
      const body = await json(callback);
      expect(body.code).toBe('KAKAO_ACCESS_DENIED');
      expect(body.message).toMatch(/dormant/);
      expect(await count('members')).toBe(members);
    });

    it("does not take Kakao's placeholder nickname as the member's name or nickname", async () => {
      const { callback } = await browserLogin(bed, { userId: PERSONA.defaultProfile });
      const outcome = await json(callback);
      expect(outcome.result).toBe('SIGNED_UP');
      expect(outcome.member.name).toBeNull();
      expect(outcome.member.profile.nickname).toBeNull();
      // Nor Kakao's default picture (is_default_image) as theirs.
      expect(outcome.member.profile).toMatchObject({ profileImageUrl: null, thumbnailImageUrl: null });
    });

    it('gives TERMS_REQUIRED a consentUrl asking the missing tags when Kakao cannot tell its terms', async () => {
      bed.kakao.injectFault({
        path: '/v2/user/service_terms',
        status: 403,
        body: { msg: 'not allowed', code: -3 },
      });
      const { callback, cookie } = await browserLogin(bed, {
        userId: PERSONA.termsMissing,
        returnTo: `${FRONTEND}/done`,
      });
      const ticket = new URL(callback.headers.get('location')!).searchParams.get('ticket')!;
      const outcome = (await call(bed.t, 'POST', '/auth/tickets/exchange', { body: { ticket } })).body;
      expect(outcome.result).toBe('TERMS_REQUIRED');
      expect(outcome.missingTerms.length).toBeGreaterThan(0);
      const consentUrl = new URL(outcome.consentUrl);
      expect(consentUrl.origin + consentUrl.pathname).toBe(`${bed.kakao.url}/oauth/authorize`);
      expect(consentUrl.searchParams.get('service_terms')!.split(',')).toEqual(outcome.missingTerms);
      // Followed by the same browser, it comes back through the callback to the same front-end page.
      const again = await browserLogin(bed, { userId: PERSONA.termsMissing, start: outcome.consentUrl, cookie });
      expect(again.callback.status).toBe(303);
      const back = new URL(again.callback.headers.get('location')!);
      expect(back.origin + back.pathname).toBe(`${FRONTEND}/done`);
    });

    it('maps Cancel to KAKAO_ACCESS_DENIED, and prompt=none for a stranger to KAKAO_CONSENT_REQUIRED', async () => {
      const cancelled = await browserLogin(bed, {
        userId: PERSONA.full,
        kakaoQuery: { emulator_cancel: '1' },
        returnTo: FRONTEND,
      });
      expect(cancelled.callback.status).toBe(303);
      expect(new URL(cancelled.callback.headers.get('location')!).searchParams.get('error')).toBe(
        'KAKAO_ACCESS_DENIED',
      );

      const auto = await browserLogin(bed, { userId: PERSONA.emailInvalid, query: { prompt: 'none' } });
      expect(auto.kakaoRedirect.searchParams.get('error')).toBe('consent_required');
      const body = await json(auto.callback);
      expect(auto.callback.status).toBe(403);
      expect(body.code).toBe('KAKAO_CONSENT_REQUIRED');
    });

    it('passes prompt, additional scope and selective terms through to Kakao', async () => {
      const res = await fetch(
        `${bed.t.url}/auth/kakao/login?prompt=login&scope=gender,birthday&serviceTerms=privacy_2024`,
        {
          redirect: 'manual',
        },
      );
      const q = new URL(res.headers.get('location')!).searchParams;
      expect(q.get('prompt')).toBe('login');
      expect(q.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'gender', 'birthday']));
      expect(q.get('service_terms')).toBe('privacy_2024');
    });

    it('turns a Kakao outage during the code exchange into KAKAO_UNAVAILABLE and writes nothing', async () => {
      const members = await count('members');
      bed.kakao.injectFault({ path: '/oauth/token', status: 500, body: { error: 'server_error' } });
      const { callback } = await browserLogin(bed, { userId: PERSONA.noName });
      expect(callback.status).toBeGreaterThanOrEqual(502);
      expect((await json(callback)).code).toBe('KAKAO_UNAVAILABLE');
      expect(await count('members')).toBe(members);
    });

    it('answers 504 KAKAO_UNAVAILABLE when Kakao hangs, retrying the read once, and writes nothing', async () => {
      const members = await count('members');
      bed.kakao.injectFault({ path: '/v2/user/me', hang: true });
      const calls = bed.kakao.callCount('GET', '/v2/user/me');
      const { callback } = await browserLogin(bed, { userId: PERSONA.noName });
      expect(callback.status).toBe(504);
      expect((await json(callback)).code).toBe('KAKAO_UNAVAILABLE');
      expect(bed.kakao.callCount('GET', '/v2/user/me')).toBe(calls + 2);
      expect(await count('members')).toBe(members);
    });

    it('answers 502 when Kakao answers garbage', async () => {
      bed.kakao.injectFault({ path: '/v2/user/me', invalidJson: true });
      const { callback } = await browserLogin(bed, { userId: PERSONA.noName });
      expect(callback.status).toBe(502);
      expect((await json(callback)).code).toBe('KAKAO_UNAVAILABLE');
    });

    it('refuses a login whose token answer carries no id_token', async () => {
      bed.kakao.injectFault({ path: '/oauth/token', omitIdToken: true });
      const { callback } = await browserLogin(bed, { userId: PERSONA.noName });
      expect((await json(callback)).code).toBe('ID_TOKEN_INVALID');
    });

    it('lets exactly one of several identical callbacks through', async () => {
      const start = await fetch(`${bed.t.url}/auth/kakao/login`, { redirect: 'manual' });
      const cookie = start.headers.get('set-cookie')!.split(';')[0];
      const authorize = new URL(start.headers.get('location')!);
      authorize.searchParams.set('emulator_user', PERSONA.full);
      const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          call(bed.t, 'GET', `/auth/kakao/callback${back.search}`, { headers: { cookie } }),
        ),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400 && r.body.code === 'INVALID_STATE')).toHaveLength(4);
    });
  });

  it('makes one member of concurrent first logins of one Kakao account', async () => {
    const userId = '4000000000000009901';
    bed.kakao.addPersona({
      id: userId,
      nickname: '동시',
      name: '동시',
      email: 'concurrent@kakao.example',
      isEmailValid: true,
      isEmailVerified: true,
    });
    const logins = await Promise.all(Array.from({ length: 4 }, () => browserLogin(bed, { userId })));
    const bodies = await Promise.all(logins.map((l) => json(l.callback)));
    expect(bodies.map((b) => b.result).sort()).toEqual(['LOGGED_IN', 'LOGGED_IN', 'LOGGED_IN', 'SIGNED_UP']);
    expect(new Set(bodies.map((b) => b.member.id)).size).toBe(1);
    const rows = await bed.t.db.query(`SELECT count(*)::int AS n FROM member_identities WHERE provider_user_id = $1`, [
      userId,
    ]);
    expect(rows.rows[0].n).toBe(1);
  });

  describe('hybrid flow', () => {
    const codeFor = (userId: string, options: { nonce?: string; verifier?: string } = {}) =>
      hybridCode(bed, userId, {
        ...(options.nonce ? { nonce: options.nonce } : {}),
        ...(options.verifier
          ? {
              code_challenge: createHash('sha256').update(options.verifier).digest('base64url'),
              code_challenge_method: 'S256',
            }
          : {}),
      });

    it('logs in with a code the front-end got, with its PKCE verifier and nonce', async () => {
      const verifier = randomBytes(32).toString('base64url');
      const code = await codeFor(PERSONA.full, { nonce: 'front-nonce', verifier });
      const res = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code, redirectUri: HYBRID_REDIRECT, codeVerifier: verifier, nonce: 'front-nonce' },
      });
      expect(res.status).toBe(200);
      expect(['SIGNED_UP', 'LOGGED_IN']).toContain(res.body.result);
    });

    it("accepts an id_token whose audience is one of KAKAO_EXTRA_AUDIENCES (the JavaScript SDK's key)", async () => {
      bed.kakao.injectFault({ path: '/oauth/token', idToken: { claims: { aud: 'test-native-app-key' } } });
      const res = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code: await codeFor(PERSONA.full), redirectUri: HYBRID_REDIRECT },
      });
      expect(res.status).toBe(200);
      expect(['SIGNED_UP', 'LOGGED_IN']).toContain(res.body.result);

      // The service's own redirect flow sends the REST API key as client_id: only that audience is Kakao's.
      bed.kakao.injectFault({ path: '/oauth/token', idToken: { claims: { aud: 'test-native-app-key' } } });
      const { callback } = await browserLogin(bed, { userId: PERSONA.full });
      expect((await json(callback)).code).toBe('ID_TOKEN_INVALID');
    });

    it('answers KAKAO_UNAVAILABLE when Kakao limits token requests (KOE237) or refuses our client secret (KOE010)', async () => {
      bed.kakao.injectFault({
        path: '/oauth/token',
        times: 1,
        status: 429,
        body: {
          error: 'invalid_request',
          error_description: 'token request rate limit exceeded',
          error_code: 'KOE237',
        },
      });
      const limited = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code: await codeFor(PERSONA.full), redirectUri: HYBRID_REDIRECT },
      });
      expect(limited.status).toBe(503);
      expect(limited.body).toMatchObject({ code: 'KAKAO_UNAVAILABLE', details: { kakaoError: 'KOE237' } });

      bed.kakao.injectFault({
        path: '/oauth/token',
        status: 401,
        body: { error: 'invalid_client', error_description: 'Bad client credentials', error_code: 'KOE010' },
      });
      const misconfigured = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code: await codeFor(PERSONA.full), redirectUri: HYBRID_REDIRECT },
      });
      expect(misconfigured.status).toBe(502);
      expect(misconfigured.body).toMatchObject({ code: 'KAKAO_UNAVAILABLE', details: { kakaoError: 'KOE010' } });
      // An operator's problem: logged as an error.
      expect(bed.t.logs.some((l) => l.level === 50 && l.kakaoError === 'KOE010')).toBe(true);
    });

    it('refuses an empty code or redirect URI as VALIDATION_FAILED, without asking Kakao', async () => {
      const tokenCalls = bed.kakao.callCount('POST', '/oauth/token');
      for (const body of [
        { code: '', redirectUri: HYBRID_REDIRECT },
        { code: 'some-code', redirectUri: '' },
        { code: await codeFor(PERSONA.full), redirectUri: HYBRID_REDIRECT, nonce: '' },
      ]) {
        await expectValidationFailed('/auth/kakao/code', body);
      }
      expect(bed.kakao.callCount('POST', '/oauth/token')).toBe(tokenCalls);
    });

    it('refuses a redirect URI that is not allowed, a wrong nonce, and a spent code', async () => {
      const code = await codeFor(PERSONA.full, { nonce: 'n1' });
      const wrongUri = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code, redirectUri: 'https://evil.example.com/cb' },
      });
      expect(wrongUri.body.code).toBe('REDIRECT_URI_NOT_ALLOWED');
      const wrongNonce = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code, redirectUri: HYBRID_REDIRECT, nonce: 'n2' },
      });
      expect(wrongNonce.body.code).toBe('ID_TOKEN_INVALID');
      const spent = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code, redirectUri: HYBRID_REDIRECT, nonce: 'n1' },
      });
      expect(spent.status).toBe(400);
      expect(spent.body).toMatchObject({ code: 'KAKAO_TOKEN_EXCHANGE_FAILED', details: { kakaoError: 'KOE320' } });
    });

    // Found by a security review: a code stolen from a front-end that asked Kakao with a nonce (no PKCE) was
    // redeemed by posting it alone. The id_token says a nonce was sent; whoever redeems it must present it.
    it('refuses a code whose id_token carries a nonce the caller does not present', async () => {
      const code = await codeFor(PERSONA.full, { nonce: 'front-nonce' });
      const alone = await call(bed.t, 'POST', '/auth/kakao/code', { body: { code, redirectUri: HYBRID_REDIRECT } });
      expect({ status: alone.status, code: alone.body.code, details: alone.body.details }).toEqual({
        status: 401,
        code: 'ID_TOKEN_INVALID',
        details: { reason: 'nonce' },
      });
      // A front-end that asked without a nonce still posts the code alone.
      const plain = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code: await codeFor(PERSONA.full), redirectUri: HYBRID_REDIRECT },
      });
      expect(plain.status).toBe(200);
    });
  });

  describe('native SDK flow', () => {
    it('logs in with the tokens of a native SDK, checking the app and the id_token audience', async () => {
      const tokens = await bed.kakao.issueTokensFor(PERSONA.emailUnverified, {
        clientId: 'test-native-app-key',
        nonce: 'app-nonce',
      });
      const res = await call(bed.t, 'POST', '/auth/kakao/native', {
        body: { accessToken: tokens.access_token, idToken: tokens.id_token, nonce: 'app-nonce' },
      });
      expect(res.status).toBe(200);
      expect(res.body.member.identities[0].providerUserId).toBe(PERSONA.emailUnverified);
      // An unverified Kakao email is never taken as the member's email.
      expect(res.body.member.email).toBeNull();
    });

    it('refuses an id_token for another audience and an unknown access token', async () => {
      const tokens = await bed.kakao.issueTokensFor(PERSONA.full, { clientId: 'some-other-app' });
      const res = await call(bed.t, 'POST', '/auth/kakao/native', {
        body: { accessToken: tokens.access_token, idToken: tokens.id_token },
      });
      expect(res.body.code).toBe('ID_TOKEN_INVALID');
      const unknown = await call(bed.t, 'POST', '/auth/kakao/native', { body: { accessToken: 'not-a-kakao-token' } });
      expect(unknown.status).toBeGreaterThanOrEqual(400);
      expect(unknown.status).toBeLessThan(600);
    });

    it('refuses empty strings, and a nonce without the idToken it belongs to, without asking Kakao', async () => {
      const tokens = await bed.kakao.issueTokensFor(PERSONA.full, { clientId: 'test-native-app-key', nonce: 'n' });
      const calls = bed.kakao.callCount('GET', '/v1/user/access_token_info');
      for (const body of [
        { accessToken: '' },
        { accessToken: tokens.access_token, idToken: '' },
        { accessToken: tokens.access_token, idToken: '', nonce: 'n' },
        { accessToken: tokens.access_token, idToken: tokens.id_token, nonce: '' },
        // A nonce can only be checked against an id_token: without one it would be ignored.
        { accessToken: tokens.access_token, nonce: 'n' },
        { accessToken: tokens.access_token, idToken: null, nonce: 'n' },
      ]) {
        await expectValidationFailed('/auth/kakao/native', body);
      }
      expect(bed.kakao.callCount('GET', '/v1/user/access_token_info')).toBe(calls);
      const withNonce = await call(bed.t, 'POST', '/auth/kakao/native', {
        body: { accessToken: tokens.access_token, nonce: 'n' },
      });
      expect(withNonce.body.details).toEqual([{ field: 'nonce', errors: [expect.stringMatching(/idToken/)] }]);
    });

    it('answers UNAUTHENTICATED when Kakao calls the access token malformed (-2)', async () => {
      bed.kakao.injectFault({
        path: '/v1/user/access_token_info',
        status: 400,
        body: { msg: 'this access token does not exist', code: -2 },
      });
      const res = await call(bed.t, 'POST', '/auth/kakao/native', { body: { accessToken: 'malformed-token' } });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });
  });
});
