import { json } from '../support/app';
import { call, decodeJwt, signup } from '../support/http';
import { SESSION_COOKIE } from '../../emulator/kauth';
import { browserLogin, FRONTEND, KakaoTestBed, PERSONA, startWithKakao } from '../support/kakao';

describe('Kakao login: intents, Kakao tokens and logout', () => {
  let bed: KakaoTestBed;
  beforeAll(async () => {
    bed = await startWithKakao();
  });
  afterAll(() => bed.close());

  /** Follows a URL from POST /auth/kakao/authorize-url through Kakao back to the callback. */
  async function followAuthorizeUrl(accessToken: string | undefined, intent: string, userId: string) {
    const res = await fetch(`${bed.t.url}/auth/kakao/authorize-url`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
      },
      body: JSON.stringify({ intent }),
    });
    const body = await json(res);
    if (res.status !== 200) return { status: res.status, body, authorizeUrl: undefined };
    const cookie = res.headers.get('set-cookie')!.split(';')[0];
    const authorize = new URL(body.url as string);
    authorize.searchParams.set('emulator_user', userId);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const callback = await call(bed.t, 'GET', `/auth/kakao/callback${back.search}`, { headers: { cookie } });
    return { ...callback, authorizeUrl: new URL(body.url as string) };
  }

  it('a link or re-certification ends with the session that started it (a stolen token cannot outlive logout)', async () => {
    const suffix = String(Date.now() % 100000).padStart(5, '0');
    const [kakaoId, freeKakaoId] = [`41000000000001${suffix}`, `41000000000002${suffix}`];
    for (const id of [kakaoId, freeKakaoId])
      bed.kakao.addPersona({ id, nickname: 'sess', email: `sess.${id}@example.com` });
    const emailMember = await signup(bed.t);
    const kakaoOne = await kakaoMember(kakaoId);
    const cases = [
      // Without the session check, each would succeed: LINKED with a Kakao account no one has, RECERTIFIED.
      {
        intent: 'link',
        accessToken: emailMember.accessToken,
        memberId: emailMember.outcome.member.id as string,
        kakaoUser: freeKakaoId,
      },
      {
        intent: 'recertify',
        accessToken: kakaoOne.tokens.accessToken,
        memberId: kakaoOne.member.id as string,
        kakaoUser: kakaoId,
      },
    ];
    const count = async (table: string, memberId: string) =>
      (await bed.t.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE member_id = $1`, [memberId])).rows[0]
        .n as number;
    for (const { intent, accessToken, memberId, kakaoUser } of cases) {
      const started = await fetch(`${bed.t.url}/auth/kakao/authorize-url`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body: JSON.stringify({ intent }),
      });
      expect(started.status).toBe(200);
      const cookie = started.headers.get('set-cookie')!.split(';')[0];
      const logout = await call(bed.t, 'POST', '/auth/logout', { token: accessToken, body: { everywhere: true } });
      expect(logout.status).toBe(204);
      const [sessionsBefore, identitiesBefore] = [
        await count('sessions', memberId),
        await count('member_identities', memberId),
      ];

      const authorize = new URL((await json(started)).url as string);
      authorize.searchParams.set('emulator_user', kakaoUser);
      const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
      const callback = await call(bed.t, 'GET', `/auth/kakao/callback${back.search}`, { headers: { cookie } });
      expect({ intent, status: callback.status, code: callback.body.code }).toEqual({
        intent,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
      expect(await count('sessions', memberId)).toBe(sessionsBefore);
      expect(await count('member_identities', memberId)).toBe(identitiesBefore);
    }
  });

  async function kakaoMember(userId: string) {
    return json((await browserLogin(bed, { userId })).callback);
  }

  it('re-certifies a signed-in member with their own Kakao account (prompt=login, fresh auth_time)', async () => {
    const first = await kakaoMember(PERSONA.full);
    await new Promise((r) => setTimeout(r, 1100));
    const res = await followAuthorizeUrl(first.tokens.accessToken, 'recertify', PERSONA.full);
    expect(res.authorizeUrl!.searchParams.get('prompt')).toBe('login');
    expect(res.status).toBe(200);
    expect(res.body.result).toBe('RECERTIFIED');
    expect(res.body.member.id).toBe(first.member.id);
    const before = decodeJwt(first.tokens.accessToken).payload.auth_time as number;
    expect(decodeJwt(res.body.tokens.accessToken).payload.auth_time).toBeGreaterThan(before);
  });

  it('refuses re-certification with another Kakao account, and link/recertify without a token', async () => {
    const member = await kakaoMember(PERSONA.lunarLeap);
    const other = await followAuthorizeUrl(member.tokens.accessToken, 'recertify', PERSONA.noName);
    expect(other.status).toBe(403);
    const anonymous = await followAuthorizeUrl(undefined, 'link', PERSONA.noName);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('UNAUTHENTICATED');
  });

  it('links a Kakao account to an email member from my page, who then logs in with Kakao', async () => {
    const { accessToken, outcome } = await signup(bed.t);
    const linked = await followAuthorizeUrl(accessToken, 'link', PERSONA.emailUnverified);
    expect(linked.status).toBe(200);
    expect(linked.body.result).toBe('LINKED');
    expect(linked.body.member.loginMethods).toEqual(['password', 'kakao']);
    const login = await kakaoMember(PERSONA.emailUnverified);
    expect(login.result).toBe('LOGGED_IN');
    expect(login.member.id).toBe(outcome.member.id);

    // The same Kakao account cannot be linked to a second member; a member cannot link a second one.
    const another = await signup(bed.t);
    const taken = await followAuthorizeUrl(another.accessToken, 'link', PERSONA.emailUnverified);
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('KAKAO_ALREADY_LINKED');
    const second = await followAuthorizeUrl(login.tokens.accessToken, 'link', PERSONA.noEmailConsent);
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('MEMBER_ALREADY_HAS_KAKAO');
  });

  it('keeps Kakao tokens encrypted, refreshes them when expired, and logs them out at Kakao on logout', async () => {
    const member = await kakaoMember(PERSONA.termsAgreed);
    const stored = await bed.t.db.query(
      `SELECT t.access_token_sealed, t.refresh_token_sealed FROM kakao_tokens t JOIN member_identities i ON i.id = t.identity_id
       WHERE i.provider_user_id = $1`,
      [PERSONA.termsAgreed],
    );
    expect(stored.rows[0].access_token_sealed).toMatch(/^v1\./);
    const kakaoTokens = [...bed.kakao.state.accessTokens.entries()].filter(([, v]) => v.userId === PERSONA.termsAgreed);
    for (const [token] of kakaoTokens) expect(stored.rows[0].access_token_sealed).not.toContain(token);

    // Expired at rest: logout must first renew it through Kakao's refresh grant.
    await bed.t.db.query(
      `UPDATE kakao_tokens SET access_expires_at = now() - interval '1 hour'
       WHERE identity_id = (SELECT id FROM member_identities WHERE provider_user_id = $1)`,
      [PERSONA.termsAgreed],
    );
    const tokenCalls = bed.kakao.callCount('POST', '/oauth/token');
    const logoutCalls = bed.kakao.callCount('POST', '/v1/user/logout');
    expect((await call(bed.t, 'POST', '/auth/logout', { token: member.tokens.accessToken, body: {} })).status).toBe(
      204,
    );
    expect(bed.kakao.callCount('POST', '/oauth/token')).toBe(tokenCalls + 1);
    expect(bed.kakao.callCount('POST', '/v1/user/logout')).toBe(logoutCalls + 1);
    const after = await bed.t.db.query(
      `SELECT count(*)::int AS n FROM kakao_tokens t JOIN member_identities i ON i.id = t.identity_id WHERE i.provider_user_id = $1`,
      [PERSONA.termsAgreed],
    );
    expect(after.rows[0].n).toBe(0);
  });

  it('renews a stored access token Kakao refuses (-401) and logs out with the new one, ending the refresh token too', async () => {
    const member = await kakaoMember(PERSONA.full);
    bed.kakao.injectFault({
      path: '/v1/user/logout',
      status: 401,
      body: { msg: 'this access token does not exist', code: -401 },
      times: 1,
    });
    const tokenCalls = bed.kakao.callCount('POST', '/oauth/token');
    const logoutCalls = bed.kakao.callCount('POST', '/v1/user/logout');
    try {
      const res = await call(bed.t, 'POST', '/auth/logout', { token: member.tokens.accessToken, body: {} });
      expect(res.status).toBe(204);
    } finally {
      bed.kakao.clearFaults();
    }
    expect(bed.kakao.callCount('POST', '/oauth/token')).toBe(tokenCalls + 1);
    expect(bed.kakao.callCount('POST', '/v1/user/logout')).toBe(logoutCalls + 2);
    const left = await bed.t.db.query(
      `SELECT count(*)::int AS n FROM kakao_tokens t JOIN member_identities i ON i.id = t.identity_id WHERE i.member_id = $1`,
      [member.member.id],
    );
    expect(left.rows[0].n).toBe(0);
  });

  it('logs out even when Kakao is down', async () => {
    const member = await kakaoMember(PERSONA.noName);
    bed.kakao.injectFault({ path: '/v1/user/logout', status: 500, body: { msg: 'down', code: -1 } });
    try {
      expect((await call(bed.t, 'POST', '/auth/logout', { token: member.tokens.accessToken, body: {} })).status).toBe(
        204,
      );
      expect((await call(bed.t, 'GET', '/members/me', { token: member.tokens.accessToken })).status).toBe(401);
    } finally {
      bed.kakao.clearFaults();
    }
  });

  describe('a logout that ends no session', () => {
    let next = 1;
    /** A Kakao member whose first session was logged out with its Bearer, then logged in again (session C). */
    async function loggedOutThenBack() {
      const id = `40000000000000${String(60000 + next++).padStart(5, '0')}`;
      bed.kakao.addPersona({
        id,
        nickname: `lo${id.slice(-4)}`,
        email: `logout.${id.slice(-5)}@kakao.example`,
        isEmailValid: true,
        isEmailVerified: true,
      });
      const a = await kakaoMember(id);
      expect((await call(bed.t, 'POST', '/auth/logout', { token: a.tokens.accessToken, body: {} })).status).toBe(204);
      const c = await kakaoMember(id);
      expect(c.result).toBe('LOGGED_IN');
      const storedKakaoTokens = async () =>
        (
          await bed.t.db.query(
            `SELECT count(*)::int AS n FROM kakao_tokens t JOIN member_identities i ON i.id = t.identity_id
             WHERE i.provider_user_id = $1`,
            [id],
          )
        ).rows[0].n as number;
      expect(await storedKakaoTokens()).toBe(1);
      const kakaoLogouts = () => bed.kakao.callCount('POST', '/v1/user/logout');
      return { a, c, storedKakaoTokens, kakaoLogouts };
    }

    type Tokens = { accessToken: string; refreshToken: string };
    it.each([
      ["the first session's refresh token", (a: Tokens) => ({ body: { refreshToken: a.refreshToken } })],
      ["the first session's access token", (a: Tokens) => ({ token: a.accessToken, body: {} })],
      [
        'both, with everywhere: true',
        (a: Tokens) => ({ token: a.accessToken, body: { refreshToken: a.refreshToken, everywhere: true } }),
      ],
    ])('with %s: 204, and the live Kakao token is left alone', async (_case, proof) => {
      const { a, c, storedKakaoTokens, kakaoLogouts } = await loggedOutThenBack();
      const before = kakaoLogouts();
      expect((await call(bed.t, 'POST', '/auth/logout', proof(a.tokens))).status).toBe(204);
      expect(kakaoLogouts()).toBe(before);
      expect(await storedKakaoTokens()).toBe(1);
      expect((await call(bed.t, 'GET', '/members/me', { token: c.tokens.accessToken })).status).toBe(200);

      // The live session's own logout still logs the Kakao token out.
      expect((await call(bed.t, 'POST', '/auth/logout', { token: c.tokens.accessToken, body: {} })).status).toBe(204);
      expect(kakaoLogouts()).toBe(before + 1);
      expect(await storedKakaoTokens()).toBe(0);
    });

    it('everywhere with a live proof ends every session and logs the Kakao token out', async () => {
      const { c, storedKakaoTokens, kakaoLogouts } = await loggedOutThenBack();
      const d = await kakaoMember(c.member.identities[0].providerUserId);
      const before = kakaoLogouts();
      const res = await call(bed.t, 'POST', '/auth/logout', {
        body: { refreshToken: c.tokens.refreshToken, everywhere: true },
      });
      expect(res.status).toBe(204);
      expect(kakaoLogouts()).toBe(before + 1);
      expect(await storedKakaoTokens()).toBe(0);
      expect((await call(bed.t, 'GET', '/members/me', { token: d.tokens.accessToken })).status).toBe(401);
    });
  });

  describe("Kakao's auth_time", () => {
    let next = 1;
    /** A fresh Kakao person, already linked to the app at Kakao by a first login here. */
    async function kakaoPerson() {
      const id = `40000000000000${String(40000 + next++).padStart(5, '0')}`;
      bed.kakao.addPersona({
        id,
        nickname: `at${id.slice(-4)}`,
        email: `auth.time.${id.slice(-5)}@kakao.example`,
        isEmailValid: true,
        isEmailVerified: true,
      });
      return { id, first: await kakaoMember(id) };
    }

    /**
     * Follows an authorize URL as a browser that holds a Kakao session from `authTime` and, unlike the
     * service's URL for recertify, lets Kakao reuse it (no prompt=login): Kakao answers at once.
     */
    async function throughKakaoSession(start: { url: string; cookie: string }, userId: string, authTime: number) {
      const authorize = new URL(start.url);
      authorize.searchParams.delete('prompt');
      const atKakao = await fetch(authorize, {
        redirect: 'manual',
        headers: { cookie: `${SESSION_COOKIE}=${userId}.${authTime}` },
      });
      const back = new URL(atKakao.headers.get('location')!);
      expect(back.searchParams.get('code')).toEqual(expect.any(String));
      return fetch(`${bed.t.url}/auth/kakao/callback${back.search}`, {
        redirect: 'manual',
        headers: { cookie: start.cookie },
      });
    }

    async function recertifyUrl(accessToken: string, returnTo?: string) {
      const res = await fetch(`${bed.t.url}/auth/kakao/authorize-url`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body: JSON.stringify({ intent: 'recertify', ...(returnTo ? { returnTo } : {}) }),
      });
      return { url: (await json(res)).url as string, cookie: res.headers.get('set-cookie')!.split(';')[0] };
    }

    const anHourAgo = () => Math.floor(Date.now() / 1000) - 3600;

    it('refuses a re-certification that Kakao answered from an old session (RECERTIFICATION_REQUIRED)', async () => {
      const { id, first } = await kakaoPerson();
      const sessions = async () =>
        (await bed.t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE member_id = $1`, [first.member.id]))
          .rows[0].n as number;
      const before = await sessions();

      const res = await throughKakaoSession(await recertifyUrl(first.tokens.accessToken), id, anHourAgo());
      expect(res.status).toBe(403);
      expect((await json(res)).code).toBe('RECERTIFICATION_REQUIRED');

      const back = await throughKakaoSession(
        await recertifyUrl(first.tokens.accessToken, `${FRONTEND}/recertified`),
        id,
        anHourAgo(),
      );
      expect(back.status).toBe(303);
      const location = new URL(back.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(`${FRONTEND}/recertified`);
      expect(location.searchParams.get('error')).toBe('RECERTIFICATION_REQUIRED');
      expect(await sessions()).toBe(before);

      // Kakao authenticating the person during the transaction is what re-certifies.
      const fresh = await throughKakaoSession(
        await recertifyUrl(first.tokens.accessToken),
        id,
        Math.floor(Date.now() / 1000),
      );
      expect(fresh.status).toBe(200);
      expect((await json(fresh)).result).toBe('RECERTIFIED');
    });

    it("starts a Kakao login's session at Kakao's auth_time, so an old Kakao session cannot withdraw", async () => {
      const { id } = await kakaoPerson();
      const authTime = anHourAgo();
      const start = await fetch(`${bed.t.url}/auth/kakao/login`, { redirect: 'manual' });
      const res = await throughKakaoSession(
        { url: start.headers.get('location')!, cookie: start.headers.get('set-cookie')!.split(';')[0] },
        id,
        authTime,
      );
      const outcome = await json(res);
      expect(outcome.result).toBe('LOGGED_IN');
      expect(decodeJwt(outcome.tokens.accessToken).payload.auth_time).toBe(authTime);
      const withdraw = await call(bed.t, 'DELETE', '/members/me', { token: outcome.tokens.accessToken });
      expect(withdraw.status).toBe(403);
      expect(withdraw.body.code).toBe('RECERTIFICATION_REQUIRED');

      // The emulator's skip switch is a fresh authentication: a re-certification then lets them withdraw.
      const recertified = await followAuthorizeUrl(outcome.tokens.accessToken, 'recertify', id);
      expect(recertified.body.result).toBe('RECERTIFIED');
      expect((await call(bed.t, 'DELETE', '/members/me', { token: recertified.body.tokens.accessToken })).status).toBe(
        204,
      );
    });

    // Found by a security review: without an id_token the session started "now", so a Kakao access token minted
    // from a day-old Kakao session (or sent without its id_token) could withdraw the account.
    it("without an id_token, starts the session at the account's connection to the app, not now", async () => {
      const id = `40000000000000${String(40000 + next++).padStart(5, '0')}`;
      const connectedAt = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      bed.kakao.addPersona({
        id,
        nickname: `nt${id.slice(-4)}`,
        email: `no.id.token.${id.slice(-5)}@kakao.example`,
        isEmailValid: true,
        isEmailVerified: true,
        linked: true,
        connectedAt,
        agreedTerms: ['service_2024', 'privacy_2024'],
      });
      const tokens = await bed.kakao.issueTokensFor(id, { clientId: 'test-native-app-key', nonce: 'app-nonce' });
      const bare = await call(bed.t, 'POST', '/auth/kakao/native', { body: { accessToken: tokens.access_token } });
      expect(bare.status).toBe(200);
      expect(decodeJwt(bare.body.tokens.accessToken).payload.auth_time).toBe(Date.parse(connectedAt) / 1000);
      const refused = await call(bed.t, 'DELETE', '/members/me', { token: bare.body.tokens.accessToken });
      expect({ status: refused.status, code: refused.body.code }).toEqual({
        status: 403,
        code: 'RECERTIFICATION_REQUIRED',
      });

      // With the id_token, Kakao's auth_time (a fresh login here) decides.
      const proven = await call(bed.t, 'POST', '/auth/kakao/native', {
        body: { accessToken: tokens.access_token, idToken: tokens.id_token, nonce: 'app-nonce' },
      });
      expect(decodeJwt(proven.body.tokens.accessToken).payload.auth_time).toBe(
        decodeJwt(tokens.id_token!).payload.auth_time,
      );
      expect((await call(bed.t, 'DELETE', '/members/me', { token: proven.body.tokens.accessToken })).status).toBe(204);
    });

    it('without an id_token, an account connected to the app just now is a recent authentication', async () => {
      const { id } = await kakaoPerson();
      const tokens = await bed.kakao.issueTokensFor(id, { clientId: 'test-native-app-key' });
      const bare = await call(bed.t, 'POST', '/auth/kakao/native', { body: { accessToken: tokens.access_token } });
      expect(bare.body.result).toBe('LOGGED_IN');
      expect((await call(bed.t, 'DELETE', '/members/me', { token: bare.body.tokens.accessToken })).status).toBe(204);
    });
  });

  it("refreshes the stored profile with Kakao's latest values at every login", async () => {
    const id = '4000000000000009801';
    bed.kakao.addPersona({
      id,
      nickname: '어피치',
      email: 'peach@kakao.example',
      isEmailValid: true,
      isEmailVerified: true,
    });
    const first = await kakaoMember(id);
    expect(first.member.profile.nickname).toBe('어피치');
    bed.kakao.user(id)!.persona.nickname = '새어피치';
    const again = await kakaoMember(id);
    expect(again.member.profile.nickname).toBe('새어피치');
  });
});
