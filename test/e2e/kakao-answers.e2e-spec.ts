import { randomBytes } from 'node:crypto';
import { call } from '../support/http';
import { HYBRID_REDIRECT, hybridCode, KakaoTestBed, PERSONA, startWithKakao } from '../support/kakao';

/**
 * What Kakao answers, read the same way by every login: kapi error codes by what they mean for the person
 * (KAKAO_API.md 8), odd but well-formed answers, and what the service sends Kakao.
 */
describe('Kakao answers', () => {
  let bed: KakaoTestBed;
  beforeAll(async () => {
    bed = await startWithKakao({ env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(() => bed.close());
  afterEach(() => bed.kakao.clearFaults());

  const count = async (table: string) =>
    (await bed.t.db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

  let seq = 0;
  /** A Kakao account the service has never seen. */
  function newPersona(overrides: Record<string, unknown> = {}): string {
    seq += 1;
    const id = `48${String(Date.now()).slice(-8)}${String(seq).padStart(9, '0')}`;
    bed.kakao.addPersona({
      id,
      nickname: `answer${seq}`,
      name: `응답${seq}`,
      email: `answer${seq}.${randomBytes(3).toString('hex')}@kakao.example`,
      isEmailValid: true,
      isEmailVerified: true,
      ...overrides,
    });
    return id;
  }

  /** A native SDK login (access token only) of a new Kakao account. */
  async function nativeLogin(kakaoId = newPersona()) {
    const tokens = await bed.kakao.issueTokensFor(kakaoId, { clientId: 'test-native-app-key' });
    return call(bed.t, 'POST', '/auth/kakao/native', { body: { accessToken: tokens.access_token } });
  }

  const kapiError = (status: number, code: number, extra: Record<string, unknown> = {}) => ({
    status,
    body: { msg: `emulated ${code}`, code, ...extra },
  });

  describe('one mapping of kapi error codes for the calls made during a login', () => {
    it('refuses a dormant Kakao account as KAKAO_ACCESS_DENIED on the native flow too (-103 at access_token_info)', async () => {
      const members = await count('members');
      const res = await nativeLogin(PERSONA.dormant);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'KAKAO_ACCESS_DENIED', details: { kakaoCode: -103 } });
      expect(res.body.message).toMatch(/dormant/);
      expect(await count('members')).toBe(members);
    });

    // [path, HTTP status, kapi code, our status, our code]
    const cases: Array<[string, number, number, number, string]> = [
      // Kakao failing for a while.
      ['/v1/user/access_token_info', 400, -1, 503, 'KAKAO_UNAVAILABLE'],
      ['/v1/user/access_token_info', 400, -7, 503, 'KAKAO_UNAVAILABLE'],
      ['/v1/user/access_token_info', 400, -10, 503, 'KAKAO_UNAVAILABLE'],
      ['/v1/user/access_token_info', 429, -10, 503, 'KAKAO_UNAVAILABLE'],
      ['/v1/user/access_token_info', 400, -603, 503, 'KAKAO_UNAVAILABLE'],
      ['/v2/user/me', 400, -1, 503, 'KAKAO_UNAVAILABLE'],
      // The person's Kakao account.
      ['/v1/user/access_token_info', 400, -101, 403, 'KAKAO_ACCESS_DENIED'],
      ['/v1/user/access_token_info', 403, -4, 403, 'KAKAO_ACCESS_DENIED'],
      ['/v1/user/access_token_info', 401, -406, 403, 'KAKAO_ACCESS_DENIED'],
      ['/v2/user/me', 400, -101, 403, 'KAKAO_ACCESS_DENIED'],
      ['/v2/user/me', 400, -103, 403, 'KAKAO_ACCESS_DENIED'],
      ['/v2/user/me', 403, -4, 403, 'KAKAO_ACCESS_DENIED'],
      ['/v2/user/me', 401, -406, 403, 'KAKAO_ACCESS_DENIED'],
      ['/v2/user/me', 403, -405, 403, 'KAKAO_ACCESS_DENIED'],
      // The caller's access token.
      ['/v1/user/access_token_info', 401, -401, 401, 'UNAUTHENTICATED'],
      ['/v1/user/access_token_info', 400, -2, 401, 'UNAUTHENTICATED'],
      ['/v2/user/me', 401, -401, 401, 'UNAUTHENTICATED'],
      // The app's setup at Kakao.
      ['/v1/user/access_token_info', 403, -3, 502, 'KAKAO_UNAVAILABLE'],
      ['/v1/user/access_token_info', 403, -5, 502, 'KAKAO_UNAVAILABLE'],
      ['/v1/user/access_token_info', 400, -903, 502, 'KAKAO_UNAVAILABLE'],
      ['/v2/user/me', 400, -8, 502, 'KAKAO_UNAVAILABLE'],
      ['/v2/user/me', 403, -3, 502, 'KAKAO_UNAVAILABLE'],
    ];

    it.each(cases)('native login: %s answering %i %i → %i %s', async (path, status, code, ours, ourCode) => {
      const members = await count('members');
      bed.kakao.injectFault({ path, ...kapiError(status, code) });
      const res = await nativeLogin();
      expect({ status: res.status, code: res.body.code, kakaoCode: res.body.details?.kakaoCode }).toEqual({
        status: ours,
        code: ourCode,
        kakaoCode: code,
      });
      expect(await count('members')).toBe(members);
    });

    it('answers KAKAO_CONSENT_REQUIRED for -402, with the scopes Kakao asks for', async () => {
      bed.kakao.injectFault({
        path: '/v2/user/me',
        ...kapiError(403, -402, { api_type: 'USER_ME', required_scopes: ['account_email'], allowed_scopes: [] }),
      });
      const res = await nativeLogin();
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({
        code: 'KAKAO_CONSENT_REQUIRED',
        details: { kakaoCode: -402, requiredScopes: ['account_email'] },
      });
    });

    it('answers 503 for Kakao under maintenance (-9798), keeping its code', async () => {
      bed.kakao.injectFault({ path: '/v1/user/access_token_info', ...kapiError(503, -9798) });
      const res = await nativeLogin();
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'KAKAO_UNAVAILABLE', details: { kakaoCode: -9798 } });
    });

    it('code flow: the same mapping; a token Kakao just issued being refused is Kakao misbehaving', async () => {
      const login = async () =>
        call(bed.t, 'POST', '/auth/kakao/code', {
          body: { code: await hybridCode(bed, newPersona()), redirectUri: HYBRID_REDIRECT },
        });

      bed.kakao.injectFault({ path: '/v2/user/me', times: 1, ...kapiError(403, -4) });
      expect((await login()).body).toMatchObject({ code: 'KAKAO_ACCESS_DENIED', details: { kakaoCode: -4 } });
      bed.kakao.injectFault({ path: '/v2/user/me', times: 1, ...kapiError(401, -401) });
      const refused = await login();
      expect(refused.status).toBe(502);
      expect(refused.body).toMatchObject({ code: 'KAKAO_UNAVAILABLE', details: { kakaoCode: -401 } });
    });
  });

  describe('odd but well-formed answers are never a 500', () => {
    /** /v2/user/me of `kakaoId` answered with `account` and `extra` (raw JSON, the id as a number). */
    function userMe(kakaoId: string, extra: string, account: Record<string, unknown> = {}) {
      bed.kakao.injectFault({
        path: '/v2/user/me',
        status: 200,
        headers: { 'content-type': 'application/json;charset=UTF-8' },
        body: `{"id":${kakaoId},${extra}"kakao_account":${JSON.stringify(account)}}`,
      });
    }
    const account = (n: number) => ({
      email_needs_agreement: false,
      is_email_valid: true,
      is_email_verified: true,
      email: `odd${n}.${randomBytes(3).toString('hex')}@kakao.example`,
    });

    it('takes an unparsable connected_at as absent', async () => {
      const kakaoId = newPersona();
      userMe(kakaoId, '"connected_at":"not a date",', account(1));
      const res = await nativeLogin(kakaoId);
      expect(res.status).toBe(200);
      expect(res.body.result).toBe('SIGNED_UP');
      expect(res.body.member.identities[0]).toMatchObject({ providerUserId: kakaoId, connectedAt: null });
    });

    it.each([
      ['without expires_in', '{"id":%ID%,"app_id":1234567}'],
      ['with expires_in 1e300', '{"id":%ID%,"expires_in":1e300,"app_id":1234567}'],
      ['with a fractional expires_in', '{"id":%ID%,"expires_in":7199.5,"app_id":1234567}'],
      ['with a negative expires_in', '{"id":%ID%,"expires_in":-1,"app_id":1234567}'],
      ['with expires_in as text', '{"id":%ID%,"expires_in":"7199","app_id":1234567}'],
    ])('access_token_info %s is a malformed answer (502)', async (_label, body) => {
      const kakaoId = newPersona();
      const members = await count('members');
      bed.kakao.injectFault({
        path: '/v1/user/access_token_info',
        status: 200,
        headers: { 'content-type': 'application/json;charset=UTF-8' },
        body: body.replace('%ID%', kakaoId),
      });
      const res = await nativeLogin(kakaoId);
      expect(res.status).toBe(502);
      expect(res.body.code).toBe('KAKAO_UNAVAILABLE');
      expect(await count('members')).toBe(members);
    });

    it.each([
      ['expires_in 1e300', { expires_in: 1e300 }],
      ['expires_in beyond 10 years', { expires_in: 11 * 366 * 86400 }],
      ['a fractional expires_in', { expires_in: 21599.5 }],
      ['a negative expires_in', { expires_in: -1 }],
      ['no expires_in', { expires_in: undefined }],
      ['refresh_token_expires_in 1e300', { refresh_token_expires_in: 1e300 }],
      ['a negative refresh_token_expires_in', { refresh_token_expires_in: -5 }],
      ['a fractional refresh_token_expires_in', { refresh_token_expires_in: 0.5 }],
      ['a refresh_token that is a number', { refresh_token: 12345 }],
    ])('the token endpoint answering %s is a malformed answer (502)', async (_label, change) => {
      const kakaoId = newPersona();
      // Genuine tokens of the account, so nothing but the odd value can fail the login.
      const genuine = await bed.kakao.issueTokensFor(kakaoId);
      const members = await count('members');
      bed.kakao.injectFault({
        path: '/oauth/token',
        times: 1,
        status: 200,
        body: { ...genuine, ...change },
      });
      const res = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code: 'any-code', redirectUri: HYBRID_REDIRECT },
      });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 502, code: 'KAKAO_UNAVAILABLE' });
      expect(await count('members')).toBe(members);
    });

    // Kakao's JSON can carry what PostgreSQL cannot store: half an emoji ("\ud83d") in jsonb, U+0000 in text.
    it('takes a nickname cut in the middle of an emoji, or holding U+0000, as text it can store', async () => {
      const kakaoId = newPersona({ nickname: '튜브\ud83d', name: '정\u0000튜브' });
      const res = await nativeLogin(kakaoId);
      expect({ status: res.status, result: res.body.result }).toEqual({ status: 200, result: 'SIGNED_UP' });
      expect(res.body.member).toMatchObject({ name: '정튜브', profile: { nickname: '튜브\ufffd' } });
      // The code flow reads the same answer (and an id_token whose nickname claim is cut the same way).
      const again = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code: await hybridCode(bed, kakaoId), redirectUri: HYBRID_REDIRECT },
      });
      expect({ status: again.status, result: again.body.result }).toEqual({ status: 200, result: 'LOGGED_IN' });
    });

    it('the same genuine token answer logs in (control)', async () => {
      const kakaoId = newPersona();
      const genuine = await bed.kakao.issueTokensFor(kakaoId);
      bed.kakao.injectFault({ path: '/oauth/token', times: 1, status: 200, body: genuine });
      const res = await call(bed.t, 'POST', '/auth/kakao/code', {
        body: { code: 'any-code', redirectUri: HYBRID_REDIRECT },
      });
      expect(res.status).toBe(200);
      expect(res.body.result).toBe('SIGNED_UP');
    });

    it('an email of null (or not a string) is no agreed account_email: MANDATORY_ITEMS_NOT_AGREED', async () => {
      for (const email of ['null', '42', '""', '{}']) {
        const kakaoId = newPersona();
        const members = await count('members');
        bed.kakao.injectFault({
          path: '/v2/user/me',
          times: 1,
          status: 200,
          body: `{"id":${kakaoId},"kakao_account":{"email_needs_agreement":false,"email":${email}}}`,
        });
        const res = await nativeLogin(kakaoId);
        expect({ email, status: res.status, result: res.body.result }).toEqual({
          email,
          status: 200,
          result: 'MANDATORY_ITEMS_NOT_AGREED',
        });
        expect(res.body.missingItems).toEqual(['account_email']);
        expect(await count('members')).toBe(members);
      }
    });
  });

  it('sends Content-Type: application/x-www-form-urlencoded;charset=utf-8 on every kapi call, GET included', async () => {
    const res = await nativeLogin();
    expect(res.status).toBe(200);
    for (const path of ['/v1/user/access_token_info', '/v2/user/me', '/v2/user/service_terms']) {
      const sent = bed.kakao.requests({ method: 'GET', path }).at(-1);
      expect({ path, contentType: sent?.contentType }).toEqual({
        path,
        contentType: 'application/x-www-form-urlencoded;charset=utf-8',
      });
    }
  });
});
