import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { KakaoEmulator, startKakaoEmulator } from './index';
import { authorizeAs, authorizeUrl, formPost, login, pkcePair, startTestEmulator } from './testing';

/** Contract tests of the kauth paths against KAKAO_API.md 1, 2, 3 and 5. */
describe('Kakao emulator: kauth', () => {
  const REDIRECT = 'http://127.0.0.1:3000/auth/kakao/callback';
  const OTHER_REDIRECT = 'https://app.example.com/kakao/callback';
  const FULL = '4000000000000001001';
  const TERMS_AGREED = '4000000000000001007';
  const NO_EMAIL = '4000000000000001002';
  const EMAIL_UNVERIFIED = '4000000000000001003';
  let kakao: KakaoEmulator;

  beforeAll(async () => {
    kakao = await startKakaoEmulator({
      restApiKey: 'rest-key',
      clientSecret: 'client-secret',
      adminKey: 'admin-key',
      appId: '1234567',
      redirectUris: [REDIRECT, OTHER_REDIRECT],
      logoutRedirectUris: ['http://127.0.0.1:3000/bye'],
      extraAppKeys: ['native-key', { key: 'js-key', type: 'javascript' }],
    });
  });
  afterAll(() => kakao.close());
  beforeEach(() => kakao.reset());

  const token = (params: Record<string, string | undefined>) => fetch(`${kakao.url}/oauth/token`, formPost(params));

  describe('OIDC discovery and JWKS', () => {
    it('serves the documented discovery document with the emulator URLs', async () => {
      const res = await fetch(`${kakao.url}/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
      expect(await res.json()).toEqual({
        issuer: kakao.url,
        authorization_endpoint: `${kakao.url}/oauth/authorize`,
        token_endpoint: `${kakao.url}/oauth/token`,
        userinfo_endpoint: `${kakao.url}/v1/oidc/userinfo`,
        jwks_uri: `${kakao.url}/.well-known/jwks.json`,
        token_endpoint_auth_methods_supported: ['client_secret_post'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        request_uri_parameter_supported: false,
        response_types_supported: ['code'],
        response_modes_supported: ['query'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        claims_supported: ['iss', 'aud', 'sub', 'auth_time', 'exp', 'iat', 'nonce', 'nickname', 'picture', 'email'],
      });
    });

    it('publishes two RSA keys with kid, kty, alg, use, n, e', async () => {
      const res = await fetch(`${kakao.url}/.well-known/jwks.json`);
      const { keys } = (await res.json()) as { keys: Array<Record<string, string>> };
      expect(keys).toHaveLength(2);
      for (const k of keys) {
        expect(Object.keys(k)).toEqual(['kid', 'kty', 'alg', 'use', 'n', 'e']);
        expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
        expect(k.kid).toMatch(/^[0-9a-f]{30}$/);
        expect(Buffer.from(k.n, 'base64url')).toHaveLength(256);
      }
      expect(new Set(keys.map((k) => k.kid)).size).toBe(2);
    });
  });

  describe('GET /oauth/authorize', () => {
    it('redirects with code and state (302, empty body) through the skip switch', async () => {
      const res = await fetch(authorizeUrl(kakao, { emulator_user: FULL, state: 'xyz' }), { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('content-length')).toBe('0');
      const back = new URL(res.headers.get('location')!);
      expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
      expect(back.searchParams.get('state')).toBe('xyz');
      expect(back.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{80,}$/);
    });

    it.each([
      [{ client_id: 'wrong' }, 'KOE101'],
      [{ client_id: 'admin-key' }, 'KOE008'],
      [{ redirect_uri: 'https://evil.example/cb' }, 'KOE006'],
      [{ response_type: 'id_token' }, 'KOE201'],
      [{ response_type: 'token' }, 'KOE202'],
      [{ code_challenge: pkcePair().challenge, code_challenge_method: 'plain' }, 'KOE001'],
      [{ channel_public_id: '_abc' }, 'KOE102'],
      [{ scope: 'account_email friends' }, 'KOE205'],
      [{ service_terms: 'marketing' }, 'KOE001'],
      [{ service_terms: 'nope,service_2024' }, 'KOE001'],
    ])('shows Kakao’s error page for %j (%s) and does not redirect', async (params, code) => {
      const res = await fetch(authorizeUrl(kakao, { emulator_user: FULL, ...params }), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain(code);
    });

    it('says "Unsupported response type" for KOE201', async () => {
      const res = await fetch(authorizeUrl(kakao, { response_type: 'id_token' }));
      expect(await res.text()).toContain('Unsupported response type: id_token');
    });

    it('prompt=none: consent_required for a user who never linked, a code for a linked one', async () => {
      const refused = await authorizeAs(kakao, FULL, { prompt: 'none', state: 's' });
      expect(refused.search).toBe('?error=consent_required&error_description=user%20consent%20required.&state=s');
      const granted = await authorizeAs(kakao, TERMS_AGREED, { prompt: 'none', state: 's' });
      expect(granted.searchParams.get('code')).toBeTruthy();
      expect(granted.searchParams.get('error')).toBeNull();
    });

    it('prompt=none: consent_required when the request asks for something not yet agreed', async () => {
      const back = await authorizeAs(kakao, TERMS_AGREED, { prompt: 'none', service_terms: 'service_2024,location' });
      expect(back.searchParams.get('error')).toBe('consent_required');
    });

    it('prompt=none without any signed-in account: consent_required', async () => {
      const back = await authorizeAs(kakao, undefined, { prompt: 'none' });
      expect(back.searchParams.get('error')).toBe('consent_required');
    });

    it('Cancel: access_denied with "User denied access"', async () => {
      const back = await authorizeAs(kakao, FULL, { emulator_cancel: '1', state: 'st' });
      expect(back.search).toBe('?error=access_denied&error_description=User%20denied%20access&state=st');
    });

    it('uses the next user when the request names none', async () => {
      kakao.setNextUser(FULL);
      const back = await authorizeAs(kakao, undefined);
      const code = back.searchParams.get('code')!;
      expect(kakao.state.codes.get(code)?.userId).toBe(FULL);
    });

    it('emulator_agree: only the listed optional items (required ones always)', async () => {
      await authorizeAs(kakao, FULL, { emulator_agree: 'account_email,marketing' });
      expect(kakao.consentedScopes(FULL).sort()).toEqual(['account_email', 'profile_nickname']);
      expect(kakao.agreedTerms(FULL).map((t) => t.tag)).toEqual(['service_2024', 'privacy_2024', 'marketing']);
    });

    it('default agreement follows the persona: no-email-consent leaves account_email out', async () => {
      await authorizeAs(kakao, NO_EMAIL, { scope: 'profile_nickname account_email' });
      expect(kakao.consentedScopes(NO_EMAIL)).toEqual(['profile_nickname']);
    });

    it('accepts comma- and space-separated scope lists', async () => {
      await authorizeAs(kakao, FULL, { scope: 'profile_nickname,account_email gender' });
      expect(kakao.consentedScopes(FULL).sort()).toEqual(['account_email', 'gender', 'profile_nickname']);
    });
  });

  describe('POST /oauth/token (authorization_code)', () => {
    it('answers the documented fields and types, with an id_token when openid was asked', async () => {
      const { tokens, status, raw } = await login(kakao, FULL, { nonce: 'n-1' });
      expect(status).toBe(200);
      expect(Object.keys(JSON.parse(raw))).toEqual([
        'token_type',
        'access_token',
        'id_token',
        'expires_in',
        'refresh_token',
        'refresh_token_expires_in',
        'scope',
      ]);
      expect(tokens.token_type).toBe('bearer');
      expect(tokens.access_token).toMatch(/^[A-Za-z0-9_-]{54}$/);
      expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{54}$/);
      expect(tokens.expires_in).toBe(21599);
      expect(tokens.refresh_token_expires_in).toBe(5183999);
      expect(tokens.scope!.split(' ').sort()).toEqual(['account_email', 'openid', 'profile_image', 'profile_nickname']);
    });

    it('sends application/json;charset=UTF-8', async () => {
      const res = await fetch(authorizeUrl(kakao, { emulator_user: FULL }), { redirect: 'manual' });
      const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
      const answer = await token({
        grant_type: 'authorization_code',
        client_id: 'rest-key',
        client_secret: 'client-secret',
        redirect_uri: REDIRECT,
        code,
      });
      expect(answer.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    });

    it('signs an RS256 id_token that verifies against the JWKS with exactly the documented claims', async () => {
      const { tokens } = await login(kakao, FULL, { nonce: 'nonce-123' });
      const jwks = createRemoteJWKSet(new URL(`${kakao.url}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, {
        issuer: kakao.url,
        audience: 'rest-key',
        algorithms: ['RS256'],
      });
      expect(Object.keys(protectedHeader)).toEqual(['kid', 'typ', 'alg']);
      expect(protectedHeader).toEqual({ kid: kakao.currentKid, typ: 'JWT', alg: 'RS256' });
      expect(Object.keys(payload)).toEqual([
        'aud',
        'sub',
        'auth_time',
        'iss',
        'nonce',
        'nickname',
        'picture',
        'email',
        'exp',
        'iat',
      ]);
      expect(payload).toMatchObject({
        aud: 'rest-key',
        sub: FULL,
        iss: kakao.url,
        nonce: 'nonce-123',
        nickname: '라이언',
        picture: 'http://k.kakaocdn.net/dn/emulator/ryan/img_110x110.jpg',
        email: 'ryan@kakao.example',
      });
      expect(typeof payload.sub).toBe('string');
      // exp is the access token's expiry: 21600 s after iat (expires_in reads 21599).
      expect(payload.exp! - payload.iat!).toBe(21600);
      expect(payload.auth_time).toBeLessThanOrEqual(payload.iat!);
    });

    it('leaves email out of the id_token unless it is valid and verified, and nonce when none was sent', async () => {
      const { tokens } = await login(kakao, EMAIL_UNVERIFIED, { nonce: undefined });
      const claims = decodeJwt(tokens.id_token!);
      expect(claims.email).toBeUndefined();
      expect(claims.nonce).toBeUndefined();
      expect(claims.nickname).toBe('무지');
    });

    it('issues no id_token when the scope of an additional-consent request lacks openid', async () => {
      const { tokens } = await login(kakao, FULL, { scope: 'profile_nickname account_email' });
      expect(tokens.id_token).toBeUndefined();
      expect(tokens.scope!.split(' ')).not.toContain('openid');
    });

    it('spends a code on first use: a second exchange is KOE320', async () => {
      const { code, verifier } = await login(kakao, FULL);
      const again = await token({
        grant_type: 'authorization_code',
        client_id: 'rest-key',
        client_secret: 'client-secret',
        redirect_uri: REDIRECT,
        code,
        code_verifier: verifier,
      });
      expect(again.status).toBe(400);
      expect(await again.json()).toEqual({
        error: 'invalid_grant',
        error_description: `authorization code not found for code=${code}`,
        error_code: 'KOE320',
      });
    });

    it('refuses an unknown code with KOE320', async () => {
      const res = await token({
        grant_type: 'authorization_code',
        client_id: 'rest-key',
        client_secret: 'client-secret',
        redirect_uri: REDIRECT,
        code: 'nope',
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error_code: string }).error_code).toBe('KOE320');
    });

    async function codeFor(params: Record<string, string> = {}): Promise<string> {
      return (await authorizeAs(kakao, FULL, params)).searchParams.get('code')!;
    }

    it('refuses a redirect_uri other than the authorize one with KOE303', async () => {
      const code = await codeFor();
      const res = await token({
        grant_type: 'authorization_code',
        client_id: 'rest-key',
        client_secret: 'client-secret',
        redirect_uri: OTHER_REDIRECT,
        code,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'Redirect URI mismatch.',
        error_code: 'KOE303',
      });
    });

    it('requires the client secret when configured: KOE010 (401)', async () => {
      for (const secret of [undefined, 'wrong']) {
        const code = await codeFor();
        const res = await token({
          grant_type: 'authorization_code',
          client_id: 'rest-key',
          client_secret: secret,
          redirect_uri: REDIRECT,
          code,
        });
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({
          error: 'invalid_client',
          error_description: 'Bad client credentials',
          error_code: 'KOE010',
        });
      }
    });

    it('refuses an unknown client_id with KOE101 (401)', async () => {
      const code = await codeFor();
      const res = await token({ grant_type: 'authorization_code', client_id: 'other', redirect_uri: REDIRECT, code });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'invalid_client', error_code: 'KOE101' });
    });

    it('answers the same through the Fastify route as through the fast path', async () => {
      const params = {
        grant_type: 'authorization_code',
        client_id: 'rest-key',
        client_secret: 'client-secret',
        redirect_uri: REDIRECT,
        code: 'x',
      };
      const fast = await token(params);
      // Any fault sends token requests through Fastify's route (and its hooks).
      kakao.injectFault({ path: '/v1/user/unlink', status: 500 });
      const routed = await token(params);
      expect(routed.status).toBe(fast.status);
      expect(routed.headers.get('content-type')).toBe(fast.headers.get('content-type'));
      expect(await routed.text()).toBe(await fast.text());
      expect(kakao.callCount('POST', '/oauth/token')).toBe(2);
      expect(kakao.requests({ path: '/oauth/token' }).map((r) => r.body)).toEqual([params, params]);
      const { tokens } = await login(kakao, FULL);
      expect(tokens.access_token).toEqual(expect.any(String));
    });

    it('refuses a JSON body: parameters travel form-encoded', async () => {
      const code = await codeFor();
      const res = await fetch(`${kakao.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'authorization_code',
          client_id: 'rest-key',
          client_secret: 'client-secret',
          redirect_uri: REDIRECT,
          code,
        }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'unsupported_grant_type' });
    });

    describe('PKCE S256', () => {
      const exchange = (code: string, verifier?: string) =>
        token({
          grant_type: 'authorization_code',
          client_id: 'rest-key',
          client_secret: 'client-secret',
          redirect_uri: REDIRECT,
          code,
          code_verifier: verifier,
        });

      it('accepts the matching verifier', async () => {
        const { verifier, challenge } = pkcePair();
        const res = await exchange(
          await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' }),
          verifier,
        );
        expect(res.status).toBe(200);
      });

      it.each([
        ['a wrong verifier', pkcePair().verifier],
        ['no verifier', undefined],
      ])('refuses %s with invalid_grant', async (_label, verifier) => {
        const { challenge } = pkcePair();
        const res = await exchange(
          await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' }),
          verifier,
        );
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ error: 'invalid_grant', error_code: 'KOE320' });
      });
    });

    it('gives a native key 12 h and a JavaScript key 2 h tokens, with their own aud; no client secret needed', async () => {
      const native = await login(kakao, FULL, { clientId: 'native-key', clientSecret: '' });
      expect(native.status).toBe(200);
      expect(native.tokens.expires_in).toBe(43199);
      expect(decodeJwt(native.tokens.id_token!).aud).toBe('native-key');
      const js = await login(kakao, FULL, { clientId: 'js-key', clientSecret: '' });
      expect(js.tokens.expires_in).toBe(7199);
    });

    it('refuses a code issued to another client_id', async () => {
      const code = (await authorizeAs(kakao, FULL, { client_id: 'native-key' })).searchParams.get('code')!;
      const res = await token({
        grant_type: 'authorization_code',
        client_id: 'rest-key',
        client_secret: 'client-secret',
        redirect_uri: REDIRECT,
        code,
      });
      expect(await res.json()).toMatchObject({ error_code: 'KOE320' });
    });
  });

  describe('POST /oauth/token (refresh_token)', () => {
    const refresh = (refreshToken: string | undefined, clientId = 'rest-key') =>
      token({
        grant_type: 'refresh_token',
        client_id: clientId,
        client_secret: 'client-secret',
        refresh_token: refreshToken,
      });

    it('gives a new access token and no new refresh token while more than a month is left', async () => {
      const { tokens } = await login(kakao, FULL);
      const res = await refresh(tokens.refresh_token);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['token_type', 'access_token', 'id_token', 'expires_in', 'scope']);
      expect(body.access_token).not.toBe(tokens.access_token);
      expect(body.expires_in).toBe(21599);
      // The old refresh token stays valid.
      expect((await refresh(tokens.refresh_token)).status).toBe(200);
    });

    it('reissues the refresh token when less than 30 days are left, and the old one dies (KOE322)', async () => {
      const { tokens } = await login(kakao, FULL);
      kakao.ageRefreshToken(tokens.refresh_token!, 29 * 86400);
      const body = (await (await refresh(tokens.refresh_token)).json()) as Record<string, unknown>;
      expect(body.refresh_token).toEqual(expect.any(String));
      expect(body.refresh_token).not.toBe(tokens.refresh_token);
      expect(body.refresh_token_expires_in).toBe(5183999);
      const old = await refresh(tokens.refresh_token);
      expect(old.status).toBe(400);
      expect(await old.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'expired_or_invalid_refresh_token',
        error_code: 'KOE322',
      });
      expect((await refresh(body.refresh_token as string)).status).toBe(200);
    });

    it('refreshes the id_token with a new iat, the original auth_time and no nonce', async () => {
      const { tokens } = await login(kakao, FULL, { nonce: 'n' });
      const first = decodeJwt(tokens.id_token!);
      const body = (await (await refresh(tokens.refresh_token)).json()) as { id_token: string };
      const again = decodeJwt(body.id_token);
      expect(again.auth_time).toBe(first.auth_time);
      expect(again.nonce).toBeUndefined();
      expect(again.sub).toBe(FULL);
    });

    it('gives no id_token on refresh when the login had none', async () => {
      const { tokens } = await login(kakao, FULL, { scope: 'profile_nickname' });
      const body = (await (await refresh(tokens.refresh_token)).json()) as Record<string, unknown>;
      expect(body.id_token).toBeUndefined();
    });

    it('refuses unknown, expired or foreign refresh tokens with KOE322 and a missing one with KOE319', async () => {
      expect(await (await refresh('nope')).json()).toMatchObject({ error_code: 'KOE322' });
      const { tokens } = await login(kakao, FULL);
      expect(await (await refresh(tokens.refresh_token, 'native-key')).json()).toMatchObject({ error_code: 'KOE322' });
      kakao.ageRefreshToken(tokens.refresh_token!, -1);
      expect(await (await refresh(tokens.refresh_token)).json()).toMatchObject({ error_code: 'KOE322' });
      const missing = await refresh(undefined);
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ error_code: 'KOE319' });
    });
  });

  describe('POST /oauth/tokeninfo', () => {
    it('answers the id_token payload', async () => {
      const { tokens } = await login(kakao, FULL, { nonce: 'abc' });
      const res = await fetch(`${kakao.url}/oauth/tokeninfo`, formPost({ id_token: tokens.id_token }));
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).slice(0, 7)).toEqual(['iss', 'aud', 'sub', 'iat', 'exp', 'nonce', 'auth_time']);
      expect(body).toMatchObject({ iss: kakao.url, aud: 'rest-key', sub: FULL, nonce: 'abc' });
    });

    it('refuses a tampered or foreign token with KOE400', async () => {
      const { tokens } = await login(kakao, FULL);
      const [h, p, s] = tokens.id_token!.split('.');
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(tokens.id_token!), sub: '1' })).toString('base64url')}.${s}`;
      for (const idToken of [forged, 'garbage', `${h}.${p}.`]) {
        const res = await fetch(`${kakao.url}/oauth/tokeninfo`, formPost({ id_token: idToken }));
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ error: 'invalid_token', error_code: 'KOE400' });
      }
    });
  });

  describe('GET /oauth/logout', () => {
    it('redirects to the registered logout_redirect_uri with state', async () => {
      const res = await fetch(
        `${kakao.url}/oauth/logout?client_id=rest-key&logout_redirect_uri=${encodeURIComponent('http://127.0.0.1:3000/bye')}&state=abc`,
        { redirect: 'manual' },
      );
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('http://127.0.0.1:3000/bye?state=abc');
    });

    it('shows KOE007 for an unregistered logout_redirect_uri and KOE101 for a wrong client_id', async () => {
      const bad = await fetch(
        `${kakao.url}/oauth/logout?client_id=rest-key&logout_redirect_uri=https://evil.example/`,
        { redirect: 'manual' },
      );
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('KOE007');
      const wrong = await fetch(`${kakao.url}/oauth/logout?client_id=x&logout_redirect_uri=http://127.0.0.1:3000/bye`, {
        redirect: 'manual',
      });
      expect(await wrong.text()).toContain('KOE101');
    });
  });

  it('decodes id_token headers with the current kid', async () => {
    const { tokens } = await login(kakao, FULL);
    expect(decodeProtectedHeader(tokens.id_token!).kid).toBe(kakao.currentKid);
  });
});

describe('Kakao emulator: kauth without a client secret and with OIDC off', () => {
  let kakao: KakaoEmulator;
  beforeAll(async () => {
    kakao = await startKakaoEmulator({
      restApiKey: 'k',
      adminKey: 'a',
      appId: '1',
      redirectUris: ['http://localhost/cb'],
      oidc: false,
      consentItems: ['profile_nickname'],
    });
  });
  afterAll(() => kakao.close());

  it('exchanges without client_secret and never issues an id_token', async () => {
    const { tokens, status } = await login(kakao, '4000000000000001001', { scope: 'profile_nickname' });
    expect(status).toBe(200);
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.scope).toBe('profile_nickname');
  });

  it('refuses openid and items the app does not configure with KOE205', async () => {
    for (const scope of ['openid', 'account_email']) {
      const res = await fetch(authorizeUrl(kakao, { scope, emulator_user: '4000000000000001001' }), {
        redirect: 'manual',
      });
      expect(await res.text()).toContain('KOE205');
    }
  });
});

describe('Kakao emulator: token rate limit (KOE237, opt-in)', () => {
  const FULL = '4000000000000001001';
  const OTHER = '4000000000000001002';
  const KOE237 = {
    error: 'invalid_request',
    error_description: 'token request rate limit exceeded',
    error_code: 'KOE237',
  };
  let kakao: KakaoEmulator;
  beforeAll(async () => {
    kakao = await startTestEmulator({ tokenRateLimit: true });
  });
  afterAll(() => kakao.close());
  beforeEach(() => kakao.reset());
  afterEach(() => jest.restoreAllMocks());

  // Without openid: no RSA signature per login, the limit is what is under test.
  const exchange = (userId: string) => login(kakao, userId, { scope: 'profile_nickname' });
  const refresh = (refreshToken: string) =>
    fetch(
      `${kakao.url}/oauth/token`,
      formPost({ grant_type: 'refresh_token', client_id: 'rest-key', refresh_token: refreshToken }),
    );
  /** Moves the emulator's clock (Date.now) forward by `ms` from now on. */
  const advance = (ms: number) => {
    const now = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => now() + ms);
  };

  it('is off unless asked: an emulator without the option issues 25 tokens in a row to one user', async () => {
    const plain = await startTestEmulator();
    try {
      expect(plain.settings().tokenRateLimit).toBe(false);
      for (let i = 0; i < 25; i++) expect((await login(plain, FULL, { scope: 'profile_nickname' })).status).toBe(200);
    } finally {
      await plain.close();
    }
  });

  it('refuses the 21st authorization_code grant for a user within 10 minutes with 429 KOE237', async () => {
    for (let i = 0; i < 20; i++) expect((await exchange(FULL)).status).toBe(200);
    const limited = await exchange(FULL);
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.raw)).toEqual(KOE237);
    // Per user, and per grant type: another user, and a refresh for this one, still get tokens.
    expect((await exchange(OTHER)).status).toBe(200);
    const first = kakao.state.refreshTokens.keys().next().value!;
    expect((await refresh(first)).status).toBe(200);
    // The window slides: ten minutes after the first grants, there is room again.
    advance(10 * 60_000 + 1000);
    expect((await exchange(FULL)).status).toBe(200);
  });

  it('refuses the 31st refresh_token grant for a user within an hour, through the Fastify route too', async () => {
    const { tokens } = await exchange(FULL);
    for (let i = 0; i < 30; i++) expect((await refresh(tokens.refresh_token!)).status).toBe(200);
    // A fault on another path sends the token endpoint through Fastify instead of the fast path.
    kakao.injectFault({ path: '/v2/user/me', status: 500 });
    const limited = await refresh(tokens.refresh_token!);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect(await limited.json()).toEqual(KOE237);
    // The refused grant was not counted, and code grants have their own window.
    expect((await exchange(FULL)).status).toBe(200);
    advance(60 * 60_000 + 1000);
    expect((await refresh(tokens.refresh_token!)).status).toBe(200);
  });

  it('switching it off lifts the limit; switching it on starts counting afresh', async () => {
    for (let i = 0; i < 20; i++) await exchange(FULL);
    expect((await exchange(FULL)).status).toBe(429);
    kakao.setTokenRateLimit(false);
    expect((await exchange(FULL)).status).toBe(200);
    kakao.setTokenRateLimit(true);
    for (let i = 0; i < 20; i++) expect((await exchange(FULL)).status).toBe(200);
    expect((await exchange(FULL)).status).toBe(429);
  });
});
