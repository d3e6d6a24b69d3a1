import { createHash, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { KakaoEmulator, SET_EVENTS, startKakaoEmulator } from './index';

/** Contract tests: each endpoint answers with the fields, types and statuses of KAKAO_API.md. */
describe('Kakao emulator', () => {
  const REDIRECT = 'http://127.0.0.1:3000/auth/kakao/callback';
  const FULL = '4000000000000001001';
  let kakao: KakaoEmulator;

  beforeAll(async () => {
    kakao = await startKakaoEmulator({
      restApiKey: 'rest-key',
      clientSecret: 'client-secret',
      adminKey: 'admin-key',
      appId: '1234567',
      redirectUris: [REDIRECT],
      logoutRedirectUris: ['http://127.0.0.1:3000/bye'],
    });
  });
  afterAll(() => kakao.close());
  beforeEach(() => kakao.reset());

  const form = (params: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: new URLSearchParams(params).toString(),
  });

  async function authorize(params: Record<string, string>): Promise<URL> {
    const url = new URL(`${kakao.url}/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: 'rest-key',
      redirect_uri: REDIRECT,
      response_type: 'code',
      ...params,
    }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!);
  }

  async function login(userId = FULL, extra: Record<string, string> = {}) {
    const verifier = randomBytes(32).toString('base64url');
    const back = await authorize({
      scope: 'openid profile_nickname account_email',
      state: 's1',
      nonce: 'n1',
      emulator_user: userId,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    });
    const code = back.searchParams.get('code')!;
    const res = await fetch(
      `${kakao.url}/oauth/token`,
      form({
        grant_type: 'authorization_code',
        client_id: 'rest-key',
        client_secret: 'client-secret',
        redirect_uri: REDIRECT,
        code,
        code_verifier: verifier,
      }),
    );
    return { res, body: (await res.json()) as Record<string, unknown>, code, verifier, back };
  }

  describe('kauth', () => {
    it('serves the discovery document and two RS256 keys', async () => {
      const config = (await (await fetch(`${kakao.url}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      expect(config).toMatchObject({
        issuer: kakao.url,
        token_endpoint_auth_methods_supported: ['client_secret_post'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        response_types_supported: ['code'],
      });
      const jwks = (await (await fetch(`${kakao.url}/.well-known/jwks.json`)).json()) as {
        keys: Array<Record<string, string>>;
      };
      expect(jwks.keys).toHaveLength(2);
      for (const k of jwks.keys)
        expect(k).toMatchObject({
          kty: 'RSA',
          alg: 'RS256',
          use: 'sig',
          e: 'AQAB',
          kid: expect.any(String),
          n: expect.any(String),
        });
    });

    it('redirects with code and state, and issues the documented token response with an id_token', async () => {
      const { res, body, back } = await login();
      expect(back.searchParams.get('state')).toBe('s1');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json;charset=UTF-8');
      expect(body).toEqual({
        token_type: 'bearer',
        access_token: expect.any(String),
        id_token: expect.any(String),
        expires_in: 21599,
        refresh_token: expect.any(String),
        refresh_token_expires_in: 5183999,
        scope: expect.stringContaining('openid'),
      });
      const { payload } = await jwtVerify(
        body.id_token as string,
        createRemoteJWKSet(new URL(`${kakao.url}/.well-known/jwks.json`)),
        {
          issuer: kakao.url,
          audience: 'rest-key',
        },
      );
      expect(decodeProtectedHeader(body.id_token as string)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
      expect(payload).toMatchObject({ sub: FULL, nonce: 'n1', nickname: '라이언', email: 'ryan@kakao.example' });
      expect(payload.exp! - payload.iat!).toBe(21599);
    });

    it('leaves an unverified email out of the id_token', async () => {
      const { body } = await login('4000000000000001003');
      const payload = JSON.parse(
        Buffer.from((body.id_token as string).split('.')[1], 'base64url').toString(),
      ) as Record<string, unknown>;
      expect(payload.email).toBeUndefined();
    });

    it('answers the KOE errors of the token endpoint', async () => {
      const { code, verifier } = await login();
      const again = await fetch(
        `${kakao.url}/oauth/token`,
        form({
          grant_type: 'authorization_code',
          client_id: 'rest-key',
          client_secret: 'client-secret',
          redirect_uri: REDIRECT,
          code,
          code_verifier: verifier,
        }),
      );
      expect(again.status).toBe(400);
      expect(await again.json()).toMatchObject({ error: 'invalid_grant', error_code: 'KOE320' });

      const fresh = await authorize({ emulator_user: FULL });
      const mismatch = await fetch(
        `${kakao.url}/oauth/token`,
        form({
          grant_type: 'authorization_code',
          client_id: 'rest-key',
          client_secret: 'client-secret',
          redirect_uri: 'http://other/cb',
          code: fresh.searchParams.get('code')!,
        }),
      );
      expect(mismatch.status).toBe(400);
      expect(await mismatch.json()).toMatchObject({
        error: 'invalid_grant',
        error_description: 'Redirect URI mismatch.',
        error_code: 'KOE303',
      });

      const noSecret = await fetch(
        `${kakao.url}/oauth/token`,
        form({ grant_type: 'authorization_code', client_id: 'rest-key', code: 'x', redirect_uri: REDIRECT }),
      );
      expect(noSecret.status).toBe(401);
      expect(await noSecret.json()).toEqual({
        error: 'invalid_client',
        error_description: 'Bad client credentials',
        error_code: 'KOE010',
      });
    });

    it('checks the PKCE verifier', async () => {
      const back = await authorize({
        emulator_user: FULL,
        code_challenge: createHash('sha256').update('right-verifier-right-verifier-right-verifier').digest('base64url'),
        code_challenge_method: 'S256',
      });
      const res = await fetch(
        `${kakao.url}/oauth/token`,
        form({
          grant_type: 'authorization_code',
          client_id: 'rest-key',
          client_secret: 'client-secret',
          redirect_uri: REDIRECT,
          code: back.searchParams.get('code')!,
          code_verifier: 'wrong-verifier-wrong-verifier-wrong-verifier',
        }),
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
    });

    it('reissues a refresh token only when less than 30 days are left', async () => {
      const { body } = await login();
      const refresh = (token: string) =>
        fetch(
          `${kakao.url}/oauth/token`,
          form({
            grant_type: 'refresh_token',
            client_id: 'rest-key',
            client_secret: 'client-secret',
            refresh_token: token,
          }),
        );
      const early = (await (await refresh(body.refresh_token as string)).json()) as Record<string, unknown>;
      expect(early.refresh_token).toBeUndefined();
      expect(early.id_token).toEqual(expect.any(String));
      kakao.ageRefreshToken(body.refresh_token as string, 10 * 24 * 3600);
      const late = (await (await refresh(body.refresh_token as string)).json()) as Record<string, unknown>;
      expect(late.refresh_token).toEqual(expect.any(String));
      expect(late.refresh_token_expires_in).toBe(5183999);
      const old = await refresh(body.refresh_token as string);
      expect(old.status).toBe(400);
      expect(await old.json()).toMatchObject({ error_code: 'KOE322' });
    });

    it('answers consent_required to prompt=none for a user who never linked, and access_denied to Cancel', async () => {
      const none = await authorize({ prompt: 'none', emulator_user: FULL, state: 'x' });
      expect(Object.fromEntries(none.searchParams)).toEqual({
        error: 'consent_required',
        error_description: 'user consent required.',
        state: 'x',
      });
      const cancel = await authorize({ emulator_user: FULL, emulator_cancel: '1', state: 'y' });
      expect(Object.fromEntries(cancel.searchParams)).toEqual({
        error: 'access_denied',
        error_description: 'User denied access',
        state: 'y',
      });
      await login();
      expect((await authorize({ prompt: 'none', emulator_user: FULL })).searchParams.get('code')).toEqual(
        expect.any(String),
      );
    });

    it('shows KOE errors on its own page for a bad client or redirect URI', async () => {
      const badClient = await fetch(
        `${kakao.url}/oauth/authorize?client_id=nope&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code`,
      );
      expect(badClient.status).toBe(400);
      expect(await badClient.text()).toContain('KOE101');
      const badRedirect = await fetch(
        `${kakao.url}/oauth/authorize?client_id=rest-key&redirect_uri=http://evil/cb&response_type=code`,
      );
      expect(await badRedirect.text()).toContain('KOE006');
      const token = await fetch(
        `${kakao.url}/oauth/authorize?client_id=rest-key&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=token`,
      );
      expect(await token.text()).toContain('KOE202');
    });

    it('serves a consent page whose form completes the login', async () => {
      const page = await fetch(
        `${kakao.url}/oauth/authorize?client_id=rest-key&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code&state=z`,
      );
      const html = await page.text();
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(html).toContain('#FEE500');
      expect(html).toContain('[필수 required]');
      const requestId = /name="request_id" value="([^"]+)"/.exec(html)![1];
      const res = await fetch(`${kakao.url}/oauth/authorize`, {
        ...form({ request_id: requestId, emulator_user: FULL, decision: 'agree', agree: 'service_2024' }),
        redirect: 'manual',
      });
      const back = new URL(res.headers.get('location')!);
      expect(back.searchParams.get('code')).toEqual(expect.any(String));
      expect(back.searchParams.get('state')).toBe('z');
      expect([...kakao.user(FULL)!.terms.keys()]).toEqual(['service_2024']);
    });

    it('rotates keys, keeping the previous one published', async () => {
      const before = kakao.keys.currentKid;
      const kid = await kakao.rotateKeys();
      const jwks = (await (await fetch(`${kakao.url}/.well-known/jwks.json`)).json()) as {
        keys: Array<{ kid: string }>;
      };
      expect(jwks.keys.map((k) => k.kid)).toEqual([before, kid]);
      const { body } = await login();
      expect(decodeProtectedHeader(body.id_token as string).kid).toBe(kid);
    });
  });

  describe('kapi', () => {
    it('writes the user id as a raw JSON number above 2^53, with *_needs_agreement semantics', async () => {
      const { body } = await login('4000000000000001002');
      const res = await fetch(`${kakao.url}/v2/user/me`, {
        headers: { authorization: `Bearer ${body.access_token as string}` },
      });
      const text = await res.text();
      expect(text.startsWith('{"id":4000000000000001002,')).toBe(true);
      const me = JSON.parse(text.replace(/"id":(\d+)/, '"id":"$1"')) as {
        kakao_account: Record<string, unknown>;
        connected_at: string;
      };
      expect(me.connected_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // This persona declined account_email: no value, and it could be asked for.
      expect(me.kakao_account.email).toBeUndefined();
      expect(me.kakao_account.email_needs_agreement).toBe(true);
      expect(me.kakao_account.profile).toMatchObject({ nickname: '어피치' });
    });

    it('serves admin-key calls with a target, and -401 with a Bearer challenge otherwise', async () => {
      await login();
      const admin = await fetch(`${kakao.url}/v2/user/me?target_id_type=user_id&target_id=${FULL}`, {
        headers: { authorization: 'KakaoAK admin-key' },
      });
      expect(admin.status).toBe(200);
      const bad = await fetch(`${kakao.url}/v2/user/me`, { headers: { authorization: 'Bearer nope' } });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toBe('Bearer error=invalid_token');
      expect(await bad.json()).toEqual({ msg: 'this access token does not exist', code: -401 });
    });

    it('answers access_token_info, logout and unlink (then -101)', async () => {
      const { body } = await login();
      const bearer = { authorization: `Bearer ${body.access_token as string}` };
      const info = await (await fetch(`${kakao.url}/v1/user/access_token_info`, { headers: bearer })).text();
      expect(info).toMatch(/^\{"id":4000000000000001001,"expires_in":\d+,"app_id":1234567\}$/);
      const unlink = await fetch(`${kakao.url}/v1/user/unlink`, {
        ...form({ target_id_type: 'user_id', target_id: FULL }),
        headers: { ...form({}).headers, authorization: 'KakaoAK admin-key' },
      });
      expect(await unlink.text()).toBe('{"id":4000000000000001001}');
      const again = await fetch(`${kakao.url}/v1/user/unlink`, {
        ...form({ target_id_type: 'user_id', target_id: FULL }),
        headers: { ...form({}).headers, authorization: 'KakaoAK admin-key' },
      });
      expect(again.status).toBe(400);
      expect(await again.json()).toEqual({ msg: 'not registered user', code: -101 });
      // Unlinking revoked the tokens.
      expect((await fetch(`${kakao.url}/v1/user/access_token_info`, { headers: bearer })).status).toBe(401);
    });

    it('reads, upgrades and revokes service terms', async () => {
      const { body } = await login(FULL, { service_terms: 'service_2024,privacy_2024' });
      const bearer = { authorization: `Bearer ${body.access_token as string}` };
      const terms = JSON.parse(
        (
          await (await fetch(`${kakao.url}/v2/user/service_terms?result=app_service_terms`, { headers: bearer })).text()
        ).replace(/"id":(\d+)/, '"id":"$1"'),
      ) as {
        service_terms: Array<Record<string, unknown>>;
      };
      expect(terms.service_terms).toEqual([
        {
          tag: 'service_2024',
          required: true,
          agreed: true,
          revocable: false,
          agreed_at: expect.stringMatching(/Z$/),
          agreed_by: 'KAUTH',
        },
        {
          tag: 'privacy_2024',
          required: true,
          agreed: true,
          revocable: false,
          agreed_at: expect.any(String),
          agreed_by: 'KAUTH',
        },
        { tag: 'marketing', required: false, agreed: false, revocable: false },
        { tag: 'location', required: false, agreed: false, revocable: false },
      ]);
      const upgrade = await fetch(`${kakao.url}/v2/user/upgrade/service_terms`, {
        ...form({ tags: 'marketing' }),
        headers: { ...form({}).headers, ...bearer },
      });
      expect(await upgrade.text()).toMatch(
        /"agreed_service_terms":\[\{"tag":"marketing","agreed":true,"agreed_at":"[^"]+","agreed_by":"KAPI"\}\]/,
      );
      const revoke = await fetch(`${kakao.url}/v2/user/revoke/service_terms`, {
        ...form({ tags: 'marketing' }),
        headers: { ...form({}).headers, ...bearer },
      });
      expect(await revoke.text()).toContain('"revoked_service_terms":[{"tag":"marketing","agreed":false}]');
      const unknown = await fetch(`${kakao.url}/v2/user/service_terms?tags=nope`, { headers: bearer });
      expect(unknown.status).toBe(400);
      expect(((await unknown.json()) as { code: number }).code).toBe(-2);
    });
  });

  describe('control API', () => {
    it('injects faults and counts calls', async () => {
      kakao.injectFault({ path: '/v2/user/me', status: 500, body: { msg: 'boom', code: -1 }, times: 1 });
      expect((await fetch(`${kakao.url}/v2/user/me`)).status).toBe(500);
      expect((await fetch(`${kakao.url}/v2/user/me`)).status).toBe(401);
      expect(kakao.callCount('GET', '/v2/user/me')).toBe(2);
      kakao.injectFault({ path: '/oauth/token', invalidJson: true });
      const res = await fetch(`${kakao.url}/oauth/token`, form({}));
      await expect(res.json()).rejects.toThrow();
    });

    it('sends the unlink webhook and a signed account-status SET', async () => {
      const received: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
      const server: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
          res.statusCode = req.headers['content-type']?.includes('secevent') ? 202 : 200;
          res.end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      try {
        expect((await kakao.sendUnlinkWebhook(target, { userId: FULL, referrerType: 'UNLINK_FROM_APPS' })).status).toBe(
          200,
        );
        expect(
          (await kakao.sendUnlinkWebhook(target, { userId: FULL, referrerType: 'ACCOUNT_DELETE', method: 'GET' }))
            .status,
        ).toBe(200);
        const set = await kakao.sendAccountStatusEvent(target, {
          userId: FULL,
          event: SET_EVENTS.userUnlinked,
          reason: 'UNLINK_FROM_APPS',
        });
        expect(set.status).toBe(202);
        expect(received[0]).toMatchObject({
          method: 'POST',
          body: `app_id=1234567&user_id=${FULL}&referrer_type=UNLINK_FROM_APPS`,
        });
        expect(received[0].headers.authorization).toBe('KakaoAK admin-key');
        expect(received[1].url).toBe(`/hook?app_id=1234567&user_id=${FULL}&referrer_type=ACCOUNT_DELETE`);
        expect(received[2].headers['content-type']).toBe('application/secevent+jwt');
        expect(decodeProtectedHeader(received[2].body)).toMatchObject({ alg: 'RS256', typ: 'secevent+jwt' });
        const { payload } = await jwtVerify(
          received[2].body,
          createRemoteJWKSet(new URL(`${kakao.url}/.well-known/jwks.json`)),
          { issuer: kakao.url, audience: 'rest-key' },
        );
        expect(payload).toMatchObject({
          sub: FULL,
          events: {
            [SET_EVENTS.userUnlinked]: { reason: 'UNLINK_FROM_APPS', subject: { subject_type: 'iss-sub', sub: FULL } },
          },
        });
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  });
});
