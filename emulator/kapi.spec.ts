/* eslint-disable @typescript-eslint/no-explicit-any -- contract tests read JSON bodies freely */
import { KakaoEmulator, startKakaoEmulator } from './index';
import { PERSONA_IDS } from './personas';
import { FORM, formPost, login } from './testing';

/** Contract tests of the kapi paths against KAKAO_API.md 3, 4, 5, 6 and 8. */
describe('Kakao emulator: kapi', () => {
  const P = PERSONA_IDS;
  const ALL_SCOPES =
    'openid profile_nickname profile_image account_email name gender age_range birthyear birthday phone_number';
  const ADMIN = { authorization: 'KakaoAK admin-key' };
  let kakao: KakaoEmulator;

  beforeAll(async () => {
    kakao = await startKakaoEmulator({
      restApiKey: 'rest-key',
      adminKey: 'admin-key',
      appId: '1234567',
      appName: 'docu_test',
      userPropertyKeys: ['membership'],
      redirectUris: ['http://127.0.0.1:3000/auth/kakao/callback'],
    });
  });
  afterAll(() => kakao.close());
  beforeEach(() => kakao.reset());

  async function accessToken(userId: string, scope = ALL_SCOPES): Promise<string> {
    const { tokens, status, raw } = await login(kakao, userId, { scope });
    if (status !== 200) throw new Error(raw);
    return tokens.access_token;
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  async function call(method: string, path: string, headers: Record<string, string>, params?: Record<string, string>) {
    const url = new URL(`${kakao.url}${path}`);
    let init: RequestInit = { method, headers };
    if (params && method === 'GET') for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    else if (params) init = formPost(params, headers);
    const res = await fetch(url, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as Record<string, any> };
  }

  /** The `full` persona's profile group, as /v2/user/me answers it with every item consented. */
  const RYAN_PROFILE = {
    nickname: '라이언',
    thumbnail_image_url: 'http://k.kakaocdn.net/dn/emulator/ryan/img_110x110.jpg',
    profile_image_url: 'http://k.kakaocdn.net/dn/emulator/ryan/img_640x640.jpg',
    is_default_image: false,
    is_default_nickname: false,
  };

  const expectError = (res: { status: number; body: unknown }, status: number, code: number) => {
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ msg: expect.any(String), code });
    expect(Object.keys(res.body as object)).toEqual(['msg', 'code']);
  };

  describe('/v2/user/me', () => {
    it('writes the id as a raw JSON number above 2^53, first in the body', async () => {
      const res = await call('GET', '/v2/user/me', bearer(await accessToken(P.full)));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json;charset=UTF-8');
      expect(res.text.startsWith(`{"id":${P.full},`)).toBe(true);
      expect(BigInt(P.full) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      // A plain JSON.parse loses digits: the test fixture would catch a client that does so.
      expect(String(res.body.id)).not.toBe(P.full);
    });

    it('answers the full documented shape for a persona who consented to everything', async () => {
      const res = await call('GET', '/v2/user/me', bearer(await accessToken(P.full)));
      const { kakao_account: a, connected_at, properties } = res.body;
      expect(Object.keys(res.body)).toEqual(['id', 'connected_at', 'synched_at', 'kakao_account', 'properties']);
      expect(connected_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(a).toEqual({
        profile_nickname_needs_agreement: false,
        profile_image_needs_agreement: false,
        profile: RYAN_PROFILE,
        name_needs_agreement: false,
        name: '김라이언',
        email_needs_agreement: false,
        is_email_valid: true,
        is_email_verified: true,
        email: 'ryan@kakao.example',
        age_range_needs_agreement: false,
        age_range: '30~39',
        birthyear_needs_agreement: false,
        birthyear: '1990',
        birthday_needs_agreement: false,
        birthday: '0130',
        birthday_type: 'SOLAR',
        is_leap_month: false,
        gender_needs_agreement: false,
        gender: 'male',
        phone_number_needs_agreement: false,
        phone_number: '+82 010-1234-5678',
      });
      expect(properties).toEqual({
        nickname: '라이언',
        profile_image: 'http://k.kakaocdn.net/dn/emulator/ryan/img_640x640.jpg',
        thumbnail_image: 'http://k.kakaocdn.net/dn/emulator/ryan/img_110x110.jpg',
      });
    });

    it('*_needs_agreement: true without a value when not consented, false without a value when there is no data', async () => {
      const noEmail = await call('GET', '/v2/user/me', bearer(await accessToken(P.noEmailConsent)));
      expect(noEmail.body.kakao_account.email_needs_agreement).toBe(true);
      expect(noEmail.body.kakao_account).not.toHaveProperty('email');
      expect(noEmail.body.kakao_account).not.toHaveProperty('is_email_valid');
      const noName = await call('GET', '/v2/user/me', bearer(await accessToken(P.noName)));
      expect(noName.body.kakao_account.name_needs_agreement).toBe(false);
      expect(noName.body.kakao_account).not.toHaveProperty('name');
      const partial = await call('GET', '/v2/user/me', bearer(await accessToken(P.full, 'profile_nickname')));
      expect(partial.body.kakao_account).toMatchObject({
        profile_image_needs_agreement: true,
        email_needs_agreement: true,
        phone_number_needs_agreement: true,
      });
      expect(partial.body.kakao_account.profile).toEqual({ nickname: '라이언', is_default_nickname: false });
    });

    it('reports email validity and verification separately', async () => {
      const unverified = await call('GET', '/v2/user/me', bearer(await accessToken(P.emailUnverified)));
      expect(unverified.body.kakao_account).toMatchObject({ is_email_valid: true, is_email_verified: false });
      const invalid = await call('GET', '/v2/user/me', bearer(await accessToken(P.emailInvalid)));
      expect(invalid.body.kakao_account).toMatchObject({ is_email_valid: false, is_email_verified: true });
    });

    it('gives a lunar birthday in a leap month', async () => {
      const res = await call('GET', '/v2/user/me', bearer(await accessToken(P.lunarLeap)));
      expect(res.body.kakao_account).toMatchObject({
        birthday: '0415',
        birthday_type: 'LUNAR',
        is_leap_month: true,
        birthyear: '1984',
      });
    });

    it('marks a default profile image and nickname', async () => {
      const res = await call('GET', '/v2/user/me', bearer(await accessToken(P.defaultProfile)));
      expect(res.body.kakao_account.profile).toMatchObject({ is_default_image: true, is_default_nickname: true });
    });

    it('filters with property_keys and upgrades image URLs with secure_resource', async () => {
      const token = await accessToken(P.full);
      const res = await call('GET', '/v2/user/me', bearer(token), {
        property_keys: JSON.stringify(['kakao_account.email', 'kakao_account.profile']),
        secure_resource: 'true',
      });
      expect(Object.keys(res.body.kakao_account)).toEqual([
        'profile_nickname_needs_agreement',
        'profile_image_needs_agreement',
        'profile',
        'email_needs_agreement',
        'is_email_valid',
        'is_email_verified',
        'email',
      ]);
      expect(res.body.kakao_account.profile.profile_image_url).toMatch(/^https:\/\//);
      expect(res.body.properties).toBeUndefined();
      const bad = await call('GET', '/v2/user/me', bearer(token), { property_keys: 'kakao_account.email' });
      expectError(bad, 400, -2);
    });

    it('property_keys accepts properties.<key> for custom properties and answers just those', async () => {
      const token = await accessToken(P.full);
      kakao.user(P.full)!.persona.properties = { membership: 'gold', age: '30' };
      const one = await call('GET', '/v2/user/me', bearer(token), {
        property_keys: JSON.stringify(['kakao_account.name', 'properties.age']),
      });
      expect(one.status).toBe(200);
      expect(one.body.kakao_account).toEqual({ name_needs_agreement: false, name: '김라이언' });
      expect(one.body.properties).toEqual({ age: '30' });
      const mixed = await call('GET', '/v2/user/me', bearer(token), {
        property_keys: JSON.stringify(['properties.membership', 'properties.nickname']),
      });
      expect(mixed.body.properties).toEqual({ nickname: '라이언', membership: 'gold' });
      expect(mixed.body).not.toHaveProperty('kakao_account.name');
      // A key the app defines but this user has no value for is accepted and answers nothing.
      delete kakao.user(P.full)!.persona.properties!.membership;
      const defined = await call('GET', '/v2/user/me', bearer(token), {
        property_keys: JSON.stringify(['properties.membership']),
      });
      expect(defined.status).toBe(200);
      expect(defined.body).not.toHaveProperty('properties');
      // Anything else keeps the -2.
      const unknown = await call('GET', '/v2/user/me', bearer(token), {
        property_keys: JSON.stringify(['properties.shoe_size']),
      });
      expectError(unknown, 400, -2);
      expect(unknown.body.msg).toBe('invalid property_keys: properties.shoe_size');
    });

    it('answers POST with a form body too', async () => {
      const res = await call('POST', '/v2/user/me', bearer(await accessToken(P.full)), {
        property_keys: '["kakao_account.name"]',
      });
      expect(res.status).toBe(200);
      expect(res.body.kakao_account).toEqual({ name_needs_agreement: false, name: '김라이언' });
    });

    it('answers the admin key with target_id_type/target_id', async () => {
      const res = await call('GET', '/v2/user/me', ADMIN, { target_id_type: 'user_id', target_id: P.termsAgreed });
      expect(res.status).toBe(200);
      expect(res.text.startsWith(`{"id":${P.termsAgreed},"connected_at":"2024-03-02T09:15:00Z"`)).toBe(true);
      const missing = await call('GET', '/v2/user/me', ADMIN, {});
      expectError(missing, 400, -2);
      const notLinked = await call('GET', '/v2/user/me', ADMIN, { target_id_type: 'user_id', target_id: P.full });
      expectError(notLinked, 400, -101);
      const wrongKey = await call(
        'GET',
        '/v2/user/me',
        { authorization: 'KakaoAK nope' },
        { target_id_type: 'user_id', target_id: P.full },
      );
      expectError(wrongKey, 401, -401);
    });

    it('answers -401 with WWW-Authenticate for a missing, unknown or expired token', async () => {
      const token = await accessToken(P.full);
      kakao.expireAccessToken(token);
      const cases: Array<[Record<string, string>, string]> = [
        [{}, 'no authentication key!'],
        [bearer('unknown'), 'this access token does not exist'],
        [bearer(token), 'this access token is already expired'],
      ];
      for (const [headers, msg] of cases) {
        const res = await call('GET', '/v2/user/me', headers);
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ msg, code: -401 });
        expect(res.headers.get('www-authenticate')).toBe('Bearer error=invalid_token');
      }
    });

    it('answers -103 for a dormant account', async () => {
      const res = await call('GET', '/v2/user/me', bearer(await accessToken(P.dormant)));
      expectError(res, 400, -103);
    });

    it('follows persona changes made at runtime', async () => {
      const token = await accessToken(P.full);
      kakao.user(P.full)!.persona.nickname = '새라이언';
      const res = await call('GET', '/v2/user/me', bearer(token));
      expect(res.body.kakao_account.profile.nickname).toBe('새라이언');
    });
  });

  describe('auto-link OFF: PREREGISTERED users and /v1/user/signup', () => {
    const target = (id: string) => ({ target_id_type: 'user_id', target_id: id });
    const signup = (token: string, params?: Record<string, string>) =>
      call('POST', '/v1/user/signup', bearer(token), params);
    /** What KAKAO_API.md 4 lets a PREREGISTERED user see of the `full` persona, all consented. */
    const REDUCED_ACCOUNT = {
      profile_nickname_needs_agreement: false,
      profile_image_needs_agreement: false,
      profile: RYAN_PROFILE,
      email_needs_agreement: false,
      is_email_valid: true,
      is_email_verified: true,
      email: 'ryan@kakao.example',
    };

    it('auto-link ON: no has_signed_up, and signup answers -102 (everyone linked is registered)', async () => {
      const token = await accessToken(P.full);
      const me = await call('GET', '/v2/user/me', bearer(token));
      expect(me.body).not.toHaveProperty('has_signed_up');
      const res = await signup(token);
      expectError(res, 400, -102);
      expect(res.body.msg).toBe('already registered');
    });

    it('a user who consents is PREREGISTERED: has_signed_up false and only the documented fields', async () => {
      kakao.setAutoLink(false);
      const token = await accessToken(P.full, `${ALL_SCOPES} talk_message`);
      expect(kakao.snapshot(P.full)).toMatchObject({ linked: true, signedUp: false });
      for (const res of [
        await call('GET', '/v2/user/me', bearer(token)),
        await call('GET', '/v2/user/me', ADMIN, target(P.full)),
      ]) {
        expect(res.status).toBe(200);
        expect(res.text.startsWith(`{"id":${P.full},"has_signed_up":false,"connected_at":"`)).toBe(true);
        expect(Object.keys(res.body)).toEqual(['id', 'has_signed_up', 'connected_at', 'kakao_account', 'for_partner']);
        expect(res.body.kakao_account).toEqual(REDUCED_ACCOUNT);
        expect(res.body.for_partner).toEqual({ uuid: expect.any(String) });
        expect(res.body).not.toHaveProperty('properties');
        expect(res.body).not.toHaveProperty('synched_at');
        for (const absent of ['name', 'phone_number', 'birthday', 'gender', 'age_range'])
          expect(res.body.kakao_account).not.toHaveProperty(absent);
      }
      // property_keys still narrows the reduced set; it cannot widen it.
      const narrowed = await call('GET', '/v2/user/me', bearer(token), {
        property_keys: '["kakao_account.email","kakao_account.name"]',
      });
      expect(narrowed.body.kakao_account).toEqual({
        email_needs_agreement: false,
        is_email_valid: true,
        is_email_verified: true,
        email: 'ryan@kakao.example',
      });
    });

    it('signup answers {id} as a raw number, then /v2/user/me has the full set and has_signed_up true', async () => {
      kakao.setAutoLink(false);
      const token = await accessToken(P.full);
      const res = await signup(token);
      expect(res.status).toBe(200);
      expect(res.text).toBe(`{"id":${P.full}}`);
      expect(kakao.snapshot(P.full).signedUp).toBe(true);
      const me = await call('GET', '/v2/user/me', bearer(token));
      expect(Object.keys(me.body)).toEqual([
        'id',
        'has_signed_up',
        'connected_at',
        'synched_at',
        'kakao_account',
        'properties',
      ]);
      expect(me.body.has_signed_up).toBe(true);
      expect(me.body.kakao_account).toMatchObject({ name: '김라이언', phone_number: '+82 010-1234-5678' });
      const again = await signup(token);
      expectError(again, 400, -102);
      expect(again.body.msg).toBe('already registered');
    });

    it('signup stores the app’s properties (form body or query); unknown keys are -201 and change nothing', async () => {
      kakao.setAutoLink(false);
      const token = await accessToken(P.full);
      const unknown = await signup(token, { properties: '{"gender":"male","age":"30","membership":"gold"}' });
      expectError(unknown, 400, -201);
      expect(unknown.body.msg).toBe('user property not found ([gender, age] for appId=1234567)');
      expect(kakao.snapshot(P.full).signedUp).toBe(false);
      expect(kakao.user(P.full)!.persona.properties).toBeUndefined();
      expect((await call('GET', '/v2/user/me', bearer(token))).body.has_signed_up).toBe(false);

      const viaQuery = await fetch(
        `${kakao.url}/v1/user/signup?properties=${encodeURIComponent('{"membership":"gold","nickname":"앱라이언"}')}`,
        { method: 'POST', headers: { ...bearer(token), 'content-type': FORM } },
      );
      expect(viaQuery.status).toBe(200);
      expect(await viaQuery.text()).toBe(`{"id":${P.full}}`);
      const me = await call('GET', '/v2/user/me', bearer(token));
      expect(me.body.properties).toMatchObject({ nickname: '앱라이언', membership: 'gold' });
    });

    it('signup refuses properties that are not a JSON object of strings (-2)', async () => {
      kakao.setAutoLink(false);
      const token = await accessToken(P.full);
      for (const properties of ['{nickname:x}', '["nickname"]', '"x"', 'null', '{"nickname":1}']) {
        expectError(await signup(token, { properties }), 400, -2);
      }
      expect(kakao.snapshot(P.full).signedUp).toBe(false);
    });

    it('signup is Bearer only: -401 with WWW-Authenticate for a bad token, the admin key refused', async () => {
      kakao.setAutoLink(false);
      await accessToken(P.full);
      const bad = await signup('unknown');
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual({ msg: 'this access token does not exist', code: -401 });
      expect(bad.headers.get('www-authenticate')).toBe('Bearer error=invalid_token');
      expectError(await call('POST', '/v1/user/signup', ADMIN, target(P.full)), 401, -401);
      expect(kakao.snapshot(P.full).signedUp).toBe(false);
    });

    it('unlinking forgets the signup: the next link is PREREGISTERED again', async () => {
      kakao.setAutoLink(false);
      const first = await accessToken(P.full);
      expect((await signup(first)).status).toBe(200);
      expect((await call('POST', '/v1/user/unlink', bearer(first))).status).toBe(200);
      expect(kakao.snapshot(P.full)).toMatchObject({ linked: false, signedUp: false });
      const second = await accessToken(P.full);
      expect((await call('GET', '/v2/user/me', bearer(second))).body.has_signed_up).toBe(false);
    });

    it('linked personas are REGISTERED unless they say signedUp: false', async () => {
      kakao.setAutoLink(false);
      const registered = await call('GET', '/v2/user/me', ADMIN, target(P.termsAgreed));
      expect(registered.text.startsWith(`{"id":${P.termsAgreed},"has_signed_up":true,`)).toBe(true);
      expect(registered.body).toHaveProperty('synched_at');

      const id = '9100000000000000777';
      kakao.addPersona({ id, nickname: '가입전', name: '가입 전', linked: true, signedUp: false });
      const pending = await call('GET', '/v2/user/me', ADMIN, target(id));
      expect(pending.body.has_signed_up).toBe(false);
      expect(pending.body.kakao_account).not.toHaveProperty('name');
      const { access_token } = await kakao.issueTokensFor(id);
      expect((await signup(access_token)).text).toBe(`{"id":${id}}`);
      expect((await call('GET', '/v2/user/me', ADMIN, target(id))).body.kakao_account.name).toBe('가입 전');
    });
  });

  describe('/v1/user/access_token_info', () => {
    it('answers {id, expires_in, app_id} with numbers', async () => {
      const res = await call('GET', '/v1/user/access_token_info', bearer(await accessToken(P.full)));
      expect(res.status).toBe(200);
      expect(res.text).toMatch(new RegExp(`^\\{"id":${P.full},"expires_in":\\d+,"app_id":1234567\\}$`));
    });

    it('right after issue reports the expires_in the token answer gave (remaining seconds, KAKAO_API.md 5)', async () => {
      const { tokens } = await login(kakao, P.full, { scope: ALL_SCOPES });
      expect(tokens.expires_in).toBe(21599);
      const res = await call('GET', '/v1/user/access_token_info', bearer(tokens.access_token));
      expect(res.body.expires_in).toBe(21599);
    });

    it('counts whole seconds left, and never more than the token answer said', async () => {
      const token = await accessToken(P.full);
      const entry = kakao.state.accessTokens.get(token)!;
      entry.expiresAt = Date.now() + 10_500;
      expect((await call('GET', '/v1/user/access_token_info', bearer(token))).body.expires_in).toBe(10);
      // Even a token whose expiry lies further out than its lifetime says no more than 21599.
      entry.expiresAt = Date.now() + 3600_000 * 7;
      expect((await call('GET', '/v1/user/access_token_info', bearer(token))).body.expires_in).toBe(21599);
    });

    it('refuses the admin key and unknown tokens with -401', async () => {
      expectError(await call('GET', '/v1/user/access_token_info', ADMIN), 401, -401);
      expectError(await call('GET', '/v1/user/access_token_info', bearer('x')), 401, -401);
    });
  });

  describe('/v1/user/logout and /v1/user/unlink', () => {
    it('logout with a Bearer token revokes that token and its refresh token only', async () => {
      const first = await login(kakao, P.full);
      const second = await login(kakao, P.full);
      const res = await call('POST', '/v1/user/logout', bearer(first.tokens.access_token));
      expect(res.status).toBe(200);
      expect(res.text).toBe(`{"id":${P.full}}`);
      expectError(await call('GET', '/v2/user/me', bearer(first.tokens.access_token)), 401, -401);
      expect(kakao.state.refreshTokens.has(first.tokens.refresh_token!)).toBe(false);
      expect((await call('GET', '/v2/user/me', bearer(second.tokens.access_token))).status).toBe(200);
      expect(kakao.isLinked(P.full)).toBe(true);
    });

    it('logout with the admin key revokes all of the user’s tokens', async () => {
      const first = await login(kakao, P.full);
      const second = await login(kakao, P.full);
      const res = await call('POST', '/v1/user/logout', ADMIN, { target_id_type: 'user_id', target_id: P.full });
      expect(res.text).toBe(`{"id":${P.full}}`);
      for (const t of [first, second])
        expectError(await call('GET', '/v2/user/me', bearer(t.tokens.access_token)), 401, -401);
    });

    it('unlink answers {id}, revokes everything, and a second unlink is -101', async () => {
      const token = await accessToken(P.full);
      const res = await call('POST', '/v1/user/unlink', bearer(token));
      expect(res.status).toBe(200);
      expect(res.text).toBe(`{"id":${P.full}}`);
      expect(kakao.isLinked(P.full)).toBe(false);
      expect(kakao.consentedScopes(P.full)).toEqual([]);
      expectError(await call('GET', '/v2/user/me', bearer(token)), 401, -401);
      expectError(
        await call('POST', '/v1/user/unlink', ADMIN, { target_id_type: 'user_id', target_id: P.full }),
        400,
        -101,
      );
    });

    it('unlink with the admin key', async () => {
      const res = await call('POST', '/v1/user/unlink', ADMIN, { target_id_type: 'user_id', target_id: P.termsAgreed });
      expect(res.text).toBe(`{"id":${P.termsAgreed}}`);
      expect(kakao.isLinked(P.termsAgreed)).toBe(false);
      expectError(
        await call('POST', '/v1/user/unlink', ADMIN, { target_id_type: 'user_id', target_id: '4000000000000999999' }),
        400,
        -101,
      );
    });
  });

  describe('/v2/user/scopes and /v2/user/revoke/scopes', () => {
    it('lists the consent items with id, display_name, type, using, agreed and revocable only when agreed', async () => {
      const token = await accessToken(P.full, 'profile_nickname account_email');
      const res = await call('GET', '/v2/user/scopes', bearer(token));
      expect(res.status).toBe(200);
      expect(res.text.startsWith(`{"id":${P.full},"scopes":[`)).toBe(true);
      const scopes = res.body.scopes as Array<Record<string, unknown>>;
      expect(scopes.find((s) => s.id === 'profile_nickname')).toEqual({
        id: 'profile_nickname',
        display_name: 'Nickname',
        type: 'PRIVACY',
        using: true,
        agreed: true,
        revocable: false,
      });
      expect(scopes.find((s) => s.id === 'account_email')).toMatchObject({ agreed: true, revocable: true });
      expect(scopes.find((s) => s.id === 'gender')).toEqual({
        id: 'gender',
        display_name: 'Gender',
        type: 'PRIVACY',
        using: true,
        agreed: false,
      });
      expect(scopes.find((s) => s.id === 'talk_message')?.type).toBe('SERVICE');
      const only = await call('GET', '/v2/user/scopes', bearer(token), { scopes: '["account_email"]' });
      expect(only.body.scopes).toHaveLength(1);
    });

    it('leaves ids it does not know out of a scopes filter (the doc’s own ["account_email","friends"])', async () => {
      const token = await accessToken(P.full, 'profile_nickname account_email');
      const res = await call('GET', '/v2/user/scopes', bearer(token), { scopes: '["account_email","friends"]' });
      expect(res.status).toBe(200);
      expect(res.body.scopes).toEqual([
        {
          id: 'account_email',
          display_name: expect.any(String),
          type: 'PRIVACY',
          using: true,
          agreed: true,
          revocable: true,
        },
      ]);
      const none = await call('GET', '/v2/user/scopes', bearer(token), { scopes: '["friends"]' });
      expect(none.status).toBe(200);
      expect(none.text).toBe(`{"id":${P.full},"scopes":[]}`);
      expectError(await call('GET', '/v2/user/scopes', bearer(token), { scopes: 'friends' }), 400, -2);
    });

    it('revokes an optional item; refuses a required one (-3, 403) and an unknown one (-2)', async () => {
      const token = await accessToken(P.full);
      const res = await call('POST', '/v2/user/revoke/scopes', bearer(token), { scopes: '["account_email"]' });
      expect(res.status).toBe(200);
      expect((res.body.scopes as Array<Record<string, unknown>>).find((s) => s.id === 'account_email')).toMatchObject({
        agreed: false,
      });
      const me = await call('GET', '/v2/user/me', bearer(token));
      expect(me.body.kakao_account.email_needs_agreement).toBe(true);
      const required = await call('POST', '/v2/user/revoke/scopes', bearer(token), { scopes: '["profile_nickname"]' });
      expectError(required, 403, -3);
      expect(required.body.msg).toBe(
        "[profile_nickname] is not revocable. check out if it's set as required on developers.kakao.com",
      );
      const unknown = await call('POST', '/v2/user/revoke/scopes', bearer(token), { scopes: '["email"]' });
      expectError(unknown, 400, -2);
      expect(unknown.body.msg).toBe(
        'There is no scopes to revoke. check out if given scope id([email]) is correct again.',
      );
    });
  });

  describe('Kakao Sync service terms', () => {
    it('lists agreed terms by default, with the documented fields', async () => {
      const res = await call('GET', '/v2/user/service_terms', ADMIN, {
        target_id_type: 'user_id',
        target_id: P.termsAgreed,
      });
      expect(res.status).toBe(200);
      expect(res.text.startsWith(`{"id":${P.termsAgreed},"service_terms":[`)).toBe(true);
      expect(res.body.service_terms).toEqual([
        {
          tag: 'service_2024',
          required: true,
          agreed: true,
          revocable: false,
          agreed_at: '2024-03-02T09:15:00Z',
          agreed_by: 'KAUTH',
        },
        {
          tag: 'privacy_2024',
          required: true,
          agreed: true,
          revocable: false,
          agreed_at: '2024-03-02T09:15:00Z',
          agreed_by: 'KAUTH',
        },
        {
          tag: 'marketing',
          required: false,
          agreed: true,
          revocable: true,
          agreed_at: '2024-03-02T09:15:00Z',
          agreed_by: 'KAUTH',
        },
      ]);
    });

    it('result=app_service_terms lists every term, not-agreed ones without agreed_at; tags filters', async () => {
      const res = await call('GET', '/v2/user/service_terms', ADMIN, {
        target_id_type: 'user_id',
        target_id: P.termsMissing,
        result: 'app_service_terms',
      });
      expect(res.body.service_terms).toHaveLength(4);
      expect(res.body.service_terms[1]).toEqual({
        tag: 'privacy_2024',
        required: true,
        agreed: false,
        revocable: false,
      });
      expect(res.body.service_terms[3]).toEqual({ tag: 'location', required: false, agreed: false, revocable: true });
      const filtered = await call('GET', '/v2/user/service_terms', ADMIN, {
        target_id_type: 'user_id',
        target_id: P.termsMissing,
        result: 'app_service_terms',
        tags: 'marketing,location',
      });
      expect(filtered.body.service_terms.map((t: { tag: string }) => t.tag)).toEqual(['marketing', 'location']);
    });

    it('answers an unknown tag with the documented -2 message', async () => {
      const res = await call('GET', '/v2/user/service_terms', ADMIN, {
        target_id_type: 'user_id',
        target_id: P.termsAgreed,
        tags: 'test',
      });
      expectError(res, 400, -2);
      expect(res.body.msg).toBe(
        'There is no tags to get service terms. check out to configured this tags([test]) in app(docu_test).',
      );
    });

    it('revokes revocable terms (tags in the body or the query), leaving out never-agreed ones', async () => {
      const target = { target_id_type: 'user_id', target_id: P.termsAgreed };
      const res = await call('POST', '/v2/user/revoke/service_terms', ADMIN, { ...target, tags: 'marketing,location' });
      expect(res.status).toBe(200);
      expect(res.text).toBe(`{"id":${P.termsAgreed},"revoked_service_terms":[{"tag":"marketing","agreed":false}]}`);
      expect(kakao.agreedTerms(P.termsAgreed).map((t) => t.tag)).toEqual(['service_2024', 'privacy_2024']);
      const viaQuery = await fetch(
        `${kakao.url}/v2/user/revoke/service_terms?target_id_type=user_id&target_id=${P.termsAgreed}&tags=service_2024`,
        { method: 'POST', headers: { ...ADMIN, 'content-type': FORM } },
      );
      expect(viaQuery.status).toBe(403);
      expect(await viaQuery.json()).toMatchObject({ code: -3 });
      const unknown = await call('POST', '/v2/user/revoke/service_terms', ADMIN, { ...target, tags: 'test_tag' });
      expectError(unknown, 400, -2);
      expect(unknown.body.msg).toBe(
        'There is no tags to revoke. check out to configured this tags([test_tag]) in app(docu_test).',
      );
    });

    it('upgrade marks terms agreed by KAPI, leaving out agreed and unknown ones', async () => {
      const res = await call('POST', '/v2/user/upgrade/service_terms', ADMIN, {
        target_id_type: 'user_id',
        target_id: P.termsMissing,
        tags: 'privacy_2024,service_2024,unknown',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        agreed_service_terms: [{ tag: 'privacy_2024', agreed: true, agreed_by: 'KAPI' }],
      });
      expect(res.body.agreed_service_terms[0].agreed_at).toMatch(/Z$/);
      expect(kakao.agreedTerms(P.termsMissing).find((t) => t.tag === 'privacy_2024')?.agreedBy).toBe('KAPI');
    });
  });

  describe('/v1/oidc/userinfo', () => {
    it('answers the consented claims, sub as a string', async () => {
      const res = await call('GET', '/v1/oidc/userinfo', bearer(await accessToken(P.full)));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        sub: P.full,
        name: '김라이언',
        nickname: '라이언',
        picture: 'http://k.kakaocdn.net/dn/emulator/ryan/img_110x110.jpg',
        email: 'ryan@kakao.example',
        email_verified: true,
        gender: 'MALE',
        birthdate: '1990-01-30',
        phone_number: '+82 10-1234-5678',
        phone_number_verified: true,
      });
    });

    it('omits what was not consented; email_verified needs valid and verified; birthdate forms', async () => {
      const partial = await call(
        'GET',
        '/v1/oidc/userinfo',
        bearer(await accessToken(P.full, 'openid profile_nickname birthday')),
      );
      expect(partial.body).toEqual({ sub: P.full, nickname: '라이언', birthdate: '0000-01-30' });
      const invalid = await call(
        'GET',
        '/v1/oidc/userinfo',
        bearer(await accessToken(P.emailInvalid, 'openid account_email')),
      );
      expect(invalid.body).toMatchObject({ email: 'frodo@kakao.example', email_verified: false });
      const year = await call('GET', '/v1/oidc/userinfo', bearer(await accessToken(P.lunarLeap, 'openid birthyear')));
      expect(year.body.birthdate).toBe('1984');
    });

    it('refuses the admin key (-401)', async () => {
      expectError(await call('GET', '/v1/oidc/userinfo', ADMIN), 401, -401);
    });
  });
});
