/* eslint-disable @typescript-eslint/no-explicit-any -- contract tests read JSON bodies freely */
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { KakaoEmulator } from './index';
import { authorizeAs, formPost, login, startTestEmulator } from './testing';

/** The control API under /__emulator, over HTTP, and the matching in-process methods. */
describe('Kakao emulator: control API', () => {
  const FULL = '4000000000000001001';
  let kakao: KakaoEmulator;

  beforeAll(async () => {
    kakao = await startTestEmulator();
  });
  afterAll(() => kakao.close());
  beforeEach(() => kakao.reset());

  async function control(method: string, path: string, body?: unknown) {
    const res = await fetch(`${kakao.url}/__emulator${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  const me = (token: string) => fetch(`${kakao.url}/v2/user/me`, { headers: { authorization: `Bearer ${token}` } });

  it('describes itself', async () => {
    const res = await control('GET', '');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ url: kakao.url, issuer: kakao.url, appId: '1234567', nextUser: null });
    expect(res.body.personas.length).toBeGreaterThanOrEqual(9);
  });

  it('next-user: authorize without emulator_user picks it', async () => {
    expect((await control('POST', '/next-user', { userId: FULL })).body).toEqual({ nextUser: FULL });
    const back = await authorizeAs(kakao, undefined);
    expect(kakao.state.codes.get(back.searchParams.get('code')!)?.userId).toBe(FULL);
    expect((await control('POST', '/next-user', { userId: 'nobody' })).status).toBe(404);
    await control('POST', '/next-user', { userId: null });
    expect(kakao.state.nextUser).toBeUndefined();
  });

  it('service-terms: a term registered later is unknown to users linked before, until reset', async () => {
    const added = await control('POST', '/service-terms', { tag: 'privacy_2026', required: true });
    expect(added.status).toBe(200);
    expect(added.body.map((t: { tag: string }) => t.tag)).toContain('privacy_2026');
    expect((await control('POST', '/service-terms', { tag: 'privacy_2026', required: true })).status).toBe(400);
    expect((await control('POST', '/service-terms', { tag: 'x' })).status).toBe(400);
    const { tokens } = await login(kakao, FULL);
    const terms = await fetch(`${kakao.url}/v2/user/service_terms?result=app_service_terms`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    const body = (await terms.json()) as any;
    expect(body.service_terms).toContainEqual(
      expect.objectContaining({ tag: 'privacy_2026', required: true, agreed: true }),
    );
    kakao.reset();
    expect(kakao.config.serviceTerms.map((t) => t.tag)).not.toContain('privacy_2026');
  });

  it('personas: lists with state, adds one with a string id above 2^53', async () => {
    const added = await control('POST', '/personas', {
      id: '9100000000000000123',
      nickname: '추가',
      email: 'x@kakao.example',
      isEmailValid: true,
      isEmailVerified: true,
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ id: '9100000000000000123', linked: false, scopes: [], terms: [] });
    const { tokens } = await login(kakao, '9100000000000000123');
    expect(await (await me(tokens.access_token)).text()).toMatch(/^\{"id":9100000000000000123,/);
    const list = await control('GET', '/personas');
    expect(list.body.find((p: { id: string }) => p.id === '9100000000000000123')).toMatchObject({ linked: true });
    expect((await control('POST', '/personas', { id: 9100000000000000123 })).status).toBe(400);
  });

  it('users: state, link and unlink', async () => {
    expect((await control('GET', `/users/${FULL}`)).body).toMatchObject({ id: FULL, linked: false });
    const linked = await control('POST', `/users/${FULL}/link`, {
      scopes: ['profile_nickname'],
      terms: ['service_2024'],
    });
    expect(linked.body).toMatchObject({
      linked: true,
      scopes: ['profile_nickname'],
      terms: [{ tag: 'service_2024', agreedBy: 'KAUTH' }],
    });
    const unlinked = await control('POST', `/users/${FULL}/unlink`, {});
    expect(unlinked.body).toMatchObject({ user: { linked: false }, webhook: null });
    expect((await control('GET', '/users/1')).status).toBe(404);
  });

  describe('settings: auto-link', () => {
    it('GET/POST settings and setAutoLink switch it; reset restores the configured value', async () => {
      expect((await control('GET', '/settings')).body).toEqual({ autoLink: true, tokenRateLimit: false });
      expect((await control('POST', '/settings', { autoLink: false })).body).toEqual({
        autoLink: false,
        tokenRateLimit: false,
      });
      expect(kakao.settings()).toEqual({ autoLink: false, tokenRateLimit: false });
      expect((await control('GET', '')).body.autoLink).toBe(false);
      expect((await control('POST', '/settings', { autoLink: 'no' })).status).toBe(400);
      expect((await control('POST', '/settings', { autolink: true })).status).toBe(400);
      expect(kakao.settings()).toEqual({ autoLink: false, tokenRateLimit: false });
      await control('POST', '/reset');
      expect(kakao.settings()).toEqual({ autoLink: true, tokenRateLimit: false });
      kakao.setAutoLink(false);
      expect((await control('GET', '/settings')).body).toEqual({ autoLink: false, tokenRateLimit: false });
      kakao.reset();
      expect(kakao.settings()).toEqual({ autoLink: true, tokenRateLimit: false });
    });

    it('GET/POST settings and setTokenRateLimit switch the token rate limit; reset restores it (off)', async () => {
      expect((await control('POST', '/settings', { tokenRateLimit: true })).body).toEqual({
        autoLink: true,
        tokenRateLimit: true,
      });
      expect(kakao.settings().tokenRateLimit).toBe(true);
      expect((await control('GET', '')).body.tokenRateLimit).toBe(true);
      // A bad value changes nothing, not even a good one beside it.
      expect((await control('POST', '/settings', { autoLink: false, tokenRateLimit: 'yes' })).status).toBe(400);
      expect(kakao.settings()).toEqual({ autoLink: true, tokenRateLimit: true });
      await control('POST', '/reset');
      expect(kakao.settings().tokenRateLimit).toBe(false);
      kakao.setTokenRateLimit(true);
      expect((await control('GET', '/settings')).body).toEqual({ autoLink: true, tokenRateLimit: true });
      expect(() => kakao.setTokenRateLimit('on' as unknown as boolean)).toThrow(/tokenRateLimit/);
    });

    it('an emulator configured with autoLink: false starts and resets with it OFF', async () => {
      const off = await startTestEmulator({ autoLink: false });
      try {
        expect(off.settings()).toEqual({ autoLink: false, tokenRateLimit: false });
        off.setAutoLink(true);
        off.reset();
        expect(off.settings()).toEqual({ autoLink: false, tokenRateLimit: false });
        const { tokens } = await login(off, FULL);
        expect(off.snapshot(FULL).signedUp).toBe(false);
        const res = await fetch(`${off.url}/v2/user/me`, {
          headers: { authorization: `Bearer ${tokens.access_token}` },
        });
        expect(((await res.json()) as any).has_signed_up).toBe(false);
      } finally {
        await off.close();
      }
    });

    it('every way of linking follows the switch; users/:id/link can force signedUp', async () => {
      const signedUp = async () => (await control('GET', `/users/${FULL}`)).body.signedUp as boolean;
      kakao.setAutoLink(false);
      await authorizeAs(kakao, FULL);
      expect(await signedUp()).toBe(false);
      await kakao.unlinkUser(FULL);
      await control('POST', '/tokens', { userId: FULL });
      expect(await signedUp()).toBe(false);
      await kakao.unlinkUser(FULL);
      expect((await control('POST', `/users/${FULL}/link`, {})).body).toMatchObject({ linked: true, signedUp: false });
      expect((await control('POST', `/users/${FULL}/link`, { signedUp: true })).body.signedUp).toBe(true);
      expect((await control('POST', `/users/${FULL}/link`, { signedUp: 'yes' })).status).toBe(400);
      const unlinked = await control('POST', `/users/${FULL}/unlink`, {});
      expect(unlinked.body.user).toMatchObject({ linked: false, signedUp: false });
      expect(kakao.linkUser(FULL, { signedUp: false }).signedUp).toBe(false);
      await kakao.unlinkUser(FULL);
      kakao.setAutoLink(true);
      expect(kakao.linkUser(FULL).signedUp).toBe(true);
      // Switching OFF later does not un-register users linked while it was ON.
      kakao.setAutoLink(false);
      expect(await signedUp()).toBe(true);
    });
  });

  describe('faults', () => {
    it('answers with the given status and {msg, code} body, `times` times', async () => {
      const { tokens } = await login(kakao, FULL);
      const added = await control('POST', '/faults', {
        path: '/v2/user/me',
        status: 500,
        body: { msg: 'internal error', code: -1 },
        times: 1,
      });
      expect(added.status).toBe(201);
      const faulty = await me(tokens.access_token);
      expect(faulty.status).toBe(500);
      expect(faulty.headers.get('content-type')).toBe('application/json;charset=UTF-8');
      expect(await faulty.json()).toEqual({ msg: 'internal error', code: -1 });
      expect((await me(tokens.access_token)).status).toBe(200);
    });

    it('matches the method when given', async () => {
      const { tokens } = await login(kakao, FULL);
      kakao.injectFault({ path: '/v2/user/me', method: 'post', status: 503 });
      expect((await me(tokens.access_token)).status).toBe(200);
      const post = await fetch(
        `${kakao.url}/v2/user/me`,
        formPost({}, { authorization: `Bearer ${tokens.access_token}` }),
      );
      expect(post.status).toBe(503);
    });

    it('delays, hangs until cleared, and answers invalid JSON', async () => {
      const { tokens } = await login(kakao, FULL);
      kakao.injectFault({ endpoint: '/v2/user/me', delayMs: 150, times: 1 });
      const started = Date.now();
      expect((await me(tokens.access_token)).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);

      kakao.injectFault({ path: '/v2/user/me', hang: true });
      const hanging = me(tokens.access_token).then(
        () => 'answered',
        () => 'cut off',
      );
      const raced = await Promise.race([hanging, new Promise((r) => setTimeout(() => r('still hanging'), 200))]);
      expect(raced).toBe('still hanging');
      expect((await control('DELETE', '/faults')).status).toBe(200);
      expect(await hanging).toBe('cut off');

      kakao.injectFault({ path: '/v2/user/me', invalidJson: true, times: 1 });
      const garbage = await me(tokens.access_token);
      expect(garbage.status).toBe(200);
      await expect(garbage.json()).rejects.toThrow();
    });

    it('omitIdToken leaves the id_token out of a token answer', async () => {
      kakao.injectFault({ path: '/oauth/token', omitIdToken: true, times: 1 });
      const first = await login(kakao, FULL);
      expect(first.status).toBe(200);
      expect(first.tokens.id_token).toBeUndefined();
      expect((await login(kakao, FULL)).tokens.id_token).toEqual(expect.any(String));
    });

    describe('idToken: an OP that gets its id_token wrong', () => {
      const keys = () => createLocalJWKSet(kakao.jwks());
      const parts = (token: string) => {
        const [h, p, s] = token.split('.');
        const json = (x: string) => JSON.parse(Buffer.from(x, 'base64url').toString()) as Record<string, any>;
        return { header: json(h), payload: json(p), signature: s };
      };

      it('changes and removes claims, still signed by the current key, `times` times', async () => {
        const added = await control('POST', '/faults', {
          path: '/oauth/token',
          idToken: { claims: { iss: 'https://evil.example', aud: 'another-app', sub: null, iat: null } },
          times: 1,
        });
        expect(added.status).toBe(201);
        const { tokens, status } = await login(kakao, FULL, { nonce: 'n-1' });
        expect(status).toBe(200);
        expect(tokens.access_token).toEqual(expect.any(String));
        const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, keys());
        expect(protectedHeader).toEqual({ kid: kakao.currentKid, typ: 'JWT', alg: 'RS256' });
        expect(payload).toMatchObject({ iss: 'https://evil.example', aud: 'another-app', nonce: 'n-1' });
        expect(payload).not.toHaveProperty('sub');
        expect(payload).not.toHaveProperty('iat');
        expect(payload.exp).toEqual(expect.any(Number));
        const next = parts((await login(kakao, FULL)).tokens.id_token!).payload;
        expect(next).toMatchObject({ iss: kakao.issuer, sub: FULL, aud: 'rest-key' });
      });

      it('changes the header: no kid, still verifiable with the current key', async () => {
        kakao.injectFault({ path: '/oauth/token', idToken: { header: { kid: null } }, times: 1 });
        const token = (await login(kakao, FULL)).tokens.id_token!;
        expect(parts(token).header).toEqual({ typ: 'JWT', alg: 'RS256' });
        const current = kakao.jwks().keys.find((k) => k.kid === kakao.currentKid)!;
        await expect(jwtVerify(token, createLocalJWKSet({ keys: [current] }))).resolves.toBeTruthy();
      });

      it('answers an unsecured (alg none) or a wrongly signed token', async () => {
        kakao.injectFault({ path: '/oauth/token', idToken: { signature: 'none' }, times: 1 });
        const none = parts((await login(kakao, FULL)).tokens.id_token!);
        expect(none.header).toEqual({ kid: kakao.currentKid, typ: 'JWT', alg: 'none' });
        expect(none.signature).toBe('');
        expect(none.payload.sub).toBe(FULL);

        kakao.injectFault({ path: '/oauth/token', idToken: { signature: 'invalid' }, times: 1 });
        const bad = (await login(kakao, FULL)).tokens.id_token!;
        expect(parts(bad).header.alg).toBe('RS256');
        await expect(jwtVerify(bad, keys())).rejects.toThrow('signature verification failed');
      });

      it('applies to the refresh grant too, and refuses a malformed spec', async () => {
        const { tokens } = await login(kakao, FULL);
        kakao.injectFault({ path: '/oauth/token', idToken: { claims: { sub: '1' } }, times: 1 });
        const refreshed = await fetch(
          `${kakao.url}/oauth/token`,
          formPost({ grant_type: 'refresh_token', client_id: 'rest-key', refresh_token: tokens.refresh_token }),
        );
        expect(parts(((await refreshed.json()) as any).id_token).payload.sub).toBe('1');
        expect(
          (await control('POST', '/faults', { path: '/oauth/token', idToken: { signature: 'weak' } })).status,
        ).toBe(400);
        expect((await control('POST', '/faults', { path: '/oauth/token', idToken: { claims: [] } })).status).toBe(400);
        expect(kakao.faults()).toEqual([]);
      });
    });

    it('lists and removes single faults; refuses a fault without a path', async () => {
      const { body } = await control('POST', '/faults', { path: '/oauth/token', status: 500 });
      expect((await control('GET', '/faults')).body).toEqual([
        expect.objectContaining({ id: body.id, path: '/oauth/token', status: 500 }),
      ]);
      expect((await control('DELETE', `/faults/${body.id}`)).status).toBe(200);
      expect((await control('GET', '/faults')).body).toEqual([]);
      expect((await control('POST', '/faults', { status: 500 })).status).toBe(400);
    });
  });

  it('keys/rotate: a new signing kid; the previous key stays published so older tokens still verify', async () => {
    const before = await login(kakao, FULL);
    const oldKid = decodeProtectedHeader(before.tokens.id_token!).kid;
    const { body } = await control('POST', '/keys/rotate');
    expect(body.kid).toMatch(/^[0-9a-f]{30}$/);
    expect(body.kid).not.toBe(oldKid);
    const jwks = (await (await fetch(`${kakao.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toEqual([oldKid, body.kid]);
    const after = await login(kakao, FULL);
    expect(decodeProtectedHeader(after.tokens.id_token!).kid).toBe(body.kid);
    const remote = createRemoteJWKSet(new URL(`${kakao.url}/.well-known/jwks.json`));
    await expect(
      jwtVerify(before.tokens.id_token!, remote, { issuer: kakao.url, audience: 'rest-key' }),
    ).resolves.toBeDefined();
    await expect(
      jwtVerify(after.tokens.id_token!, remote, { issuer: kakao.url, audience: 'rest-key' }),
    ).resolves.toBeDefined();
    // A second rotation drops the oldest key: tokens signed with it no longer verify.
    await kakao.rotateKeys();
    const local = createLocalJWKSet(kakao.jwks());
    await expect(jwtVerify(before.tokens.id_token!, local)).rejects.toThrow();
  });

  it('calls: counts per endpoint, control calls excluded; reset clears them', async () => {
    await login(kakao, FULL);
    await login(kakao, FULL);
    const { body } = await control('GET', '/calls');
    expect(body['GET /oauth/authorize']).toBe(2);
    expect(body['POST /oauth/token']).toBe(2);
    expect(Object.keys(body).some((k) => k.includes('__emulator'))).toBe(false);
    expect(kakao.callCount('POST', '/oauth/token')).toBe(2);
    await control('POST', '/reset');
    expect(kakao.callCounts()).toEqual({});
  });

  it('requests: what the client sent, for assertions', async () => {
    await login(kakao, FULL, { nonce: 'n' });
    const { body } = await control('GET', '/requests?path=/oauth/token');
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({
      method: 'POST',
      path: '/oauth/token',
      body: { grant_type: 'authorization_code', client_id: 'rest-key' },
    });
    expect(body[0].body.code_verifier).toEqual(expect.any(String));
  });

  it('reset: back to the personas file', async () => {
    await login(kakao, FULL);
    kakao.addPersona({ id: '9100000000000000999' });
    kakao.setNextUser(FULL);
    await control('POST', '/reset');
    expect(kakao.isLinked(FULL)).toBe(false);
    expect(kakao.user('9100000000000000999')).toBeUndefined();
    expect(kakao.state.nextUser).toBeUndefined();
    expect(kakao.state.accessTokens.size).toBe(0);
  });

  it('tokens: mints tokens as a native SDK holds them, linking the user', async () => {
    const { body } = await control('POST', '/tokens', { userId: FULL, clientId: 'native-app-key', nonce: 'sdk-nonce' });
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 21599, refresh_token_expires_in: 5183999 });
    const { payload } = await jwtVerify(body.id_token, createLocalJWKSet(kakao.jwks()), {
      audience: 'native-app-key',
      issuer: kakao.url,
    });
    expect(payload.nonce).toBe('sdk-nonce');
    expect((await me(body.access_token)).status).toBe(200);
    expect(kakao.isLinked(FULL)).toBe(true);
  });

  it('refresh-tokens/age and access-tokens/expire', async () => {
    const { tokens } = await login(kakao, FULL);
    const aged = await control('POST', '/refresh-tokens/age', {
      refreshToken: tokens.refresh_token,
      remainingDays: 10,
    });
    expect(aged.body.remainingSeconds).toBeGreaterThan(10 * 86400 - 5);
    const refreshed = await fetch(
      `${kakao.url}/oauth/token`,
      formPost({ grant_type: 'refresh_token', client_id: 'rest-key', refresh_token: tokens.refresh_token }),
    );
    expect(((await refreshed.json()) as { refresh_token?: string }).refresh_token).toEqual(expect.any(String));
    expect((await control('POST', '/refresh-tokens/age', { refreshToken: 'nope', remainingSeconds: 1 })).status).toBe(
      400,
    );
    await control('POST', '/access-tokens/expire', { accessToken: tokens.access_token });
    expect(await (await me(tokens.access_token)).json()).toEqual({
      msg: 'this access token is already expired',
      code: -401,
    });
  });
});
