import { randomBytes } from 'node:crypto';
import type { Persona } from '../../emulator';
import { json } from '../support/app';
import { call, signup } from '../support/http';
import { browserLogin, HYBRID_REDIRECT, KakaoTestBed, startWithKakao } from '../support/kakao';

describe('link, unlink and withdrawal from my page', () => {
  let bed: KakaoTestBed;
  let next = 1;
  beforeAll(async () => {
    bed = await startWithKakao({ env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(() => bed.close());

  function person(): Persona {
    const id = `40000000000000${String(30000 + next++).padStart(5, '0')}`;
    const persona: Persona = {
      id,
      nickname: `n${id.slice(-4)}`,
      name: `사람${randomBytes(3).toString('hex')}`,
      email: `life.${randomBytes(4).toString('hex')}@example.com`,
      isEmailValid: true,
      isEmailVerified: true,
    };
    bed.kakao.addPersona(persona);
    return persona;
  }

  async function hybridCode(userId: string): Promise<string> {
    const url = new URL(`${bed.kakao.url}/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: 'test-rest-api-key',
      redirect_uri: HYBRID_REDIRECT,
      response_type: 'code',
      scope: 'openid profile_nickname account_email',
      emulator_user: userId,
    }).toString();
    return new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
  }

  const linkWithCode = async (accessToken: string, userId: string) =>
    call(bed.t, 'POST', '/members/me/kakao', {
      token: accessToken,
      body: { code: await hybridCode(userId), redirectUri: HYBRID_REDIRECT },
    });

  it('links with a hybrid code, and unlinks at Kakao and locally, keeping the member', async () => {
    const p = person();
    const m = await signup(bed.t);
    const linked = await linkWithCode(m.accessToken, p.id);
    expect(linked.status).toBe(200);
    expect(linked.body.identities).toEqual([expect.objectContaining({ provider: 'kakao', providerUserId: p.id })]);
    expect(linked.body.profile.nickname).toBe(p.nickname);

    const storedTokens = async () =>
      (await bed.t.db.query(`SELECT count(*)::int AS n FROM kakao_tokens`)).rows[0].n as number;
    const tokensBefore = await storedTokens();
    const unlinkCalls = bed.kakao.callCount('POST', '/v1/user/unlink');
    expect((await call(bed.t, 'DELETE', '/members/me/kakao', { token: m.accessToken })).status).toBe(204);
    expect(bed.kakao.callCount('POST', '/v1/user/unlink')).toBe(unlinkCalls + 1);
    expect(bed.kakao.user(p.id)!.linked).toBe(false);
    const me = await call(bed.t, 'GET', '/members/me', { token: m.accessToken });
    expect(me.body.identities).toEqual([]);
    expect(me.body.loginMethods).toEqual(['password']);
    expect(me.body.profile.nickname).toBeNull();
    expect(await storedTokens()).toBe(tokensBefore - 1);
  });

  it('unlinking from my page lapses the optional consents given through Kakao Sync, not the required terms', async () => {
    const p = person();
    const m = await signup(bed.t);
    expect((await linkWithCode(m.accessToken, p.id)).status).toBe(200);
    type TermView = { tag: string; required: boolean; agreed: boolean; source: string };
    const terms = async () =>
      (await call(bed.t, 'GET', '/members/me/terms', { token: m.accessToken })).body.terms as TermView[];
    const viaKakao = (await terms()).filter((t) => t.agreed && t.source === 'kakao_sync');
    const optional = viaKakao.filter((t) => !t.required).map((t) => t.tag);
    expect(optional.length).toBeGreaterThan(0);
    expect((await call(bed.t, 'DELETE', '/members/me/kakao', { token: m.accessToken })).status).toBe(204);
    const after = await terms();
    for (const tag of optional) expect(after.find((t) => t.tag === tag)).toMatchObject({ agreed: false });
    for (const t of viaKakao.filter((v) => v.required)) {
      expect(after.find((a) => a.tag === t.tag)).toMatchObject({ agreed: true });
    }
  });

  it('links from my page without starting a session (its tokens would never be returned)', async () => {
    const p = person();
    const m = await signup(bed.t);
    const sessions = async () =>
      (await bed.t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE member_id = $1`, [m.outcome.member.id]))
        .rows[0].n as number;
    const before = await sessions();
    expect((await linkWithCode(m.accessToken, p.id)).status).toBe(200);
    expect(await sessions()).toBe(before);
  });

  it('refuses to unlink the only way in (LAST_LOGIN_METHOD)', async () => {
    const p = person();
    const outcome = await json((await browserLogin(bed, { userId: p.id })).callback);
    const res = await call(bed.t, 'DELETE', '/members/me/kakao', { token: outcome.tokens.accessToken });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('LAST_LOGIN_METHOD');
  });

  it('counts -101 (already unlinked at Kakao) as done', async () => {
    const p = person();
    const m = await signup(bed.t);
    await linkWithCode(m.accessToken, p.id);
    await bed.kakao.unlinkUser(p.id);
    expect((await call(bed.t, 'DELETE', '/members/me/kakao', { token: m.accessToken })).status).toBe(204);
  });

  it('counts -103 (Kakao account dormant or gone) as done, for unlink and withdrawal, with a warning', async () => {
    const dormant = {
      path: '/v1/user/unlink',
      status: 400,
      body: { msg: 'dormant or non-existent account', code: -103 },
    };
    try {
      const p = person();
      const m = await signup(bed.t);
      await linkWithCode(m.accessToken, p.id);
      bed.kakao.injectFault({ ...dormant, times: 1 });
      expect((await call(bed.t, 'DELETE', '/members/me/kakao', { token: m.accessToken })).status).toBe(204);
      expect((await call(bed.t, 'GET', '/members/me', { token: m.accessToken })).body.identities).toEqual([]);

      const q = person();
      const kakaoOnly = await json((await browserLogin(bed, { userId: q.id })).callback);
      bed.kakao.injectFault({ ...dormant, times: 1 });
      expect((await call(bed.t, 'DELETE', '/members/me', { token: kakaoOnly.tokens.accessToken })).status).toBe(204);
      const row = await bed.t.db.query(`SELECT status FROM members WHERE id = $1`, [kakaoOnly.member.id]);
      expect(row.rows[0].status).toBe('withdrawn');

      const warnings = bed.t.logs.filter((l) => l.level === 40 && String(l.msg).includes('unlink counted as done'));
      expect(warnings.length).toBeGreaterThanOrEqual(2);
      for (const line of warnings) expect(JSON.stringify(line)).not.toMatch(new RegExp(`${p.id}|${q.id}`));
    } finally {
      bed.kakao.clearFaults();
    }
  });

  it('withdraws: Kakao unlink, sessions revoked, personal data deleted; the Kakao account then signs up anew', async () => {
    const p = person();
    const first = await json((await browserLogin(bed, { userId: p.id })).callback);
    const memberId = first.member.id as string;
    const recorded = await bed.t.db.query(`SELECT count(*)::int AS n FROM member_terms_history WHERE member_id = $1`, [
      memberId,
    ]);
    expect(recorded.rows[0].n).toBeGreaterThan(0);
    expect((await call(bed.t, 'DELETE', '/members/me', { token: first.tokens.accessToken })).status).toBe(204);
    expect((await call(bed.t, 'GET', '/members/me', { token: first.tokens.accessToken })).status).toBe(401);
    expect(
      (await call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken: first.tokens.refreshToken } })).status,
    ).toBe(401);
    expect(bed.kakao.user(p.id)!.linked).toBe(false);
    const row = await bed.t.db.query(`SELECT email, name, password_hash, profile, status FROM members WHERE id = $1`, [
      memberId,
    ]);
    expect(row.rows[0]).toEqual({ email: null, name: null, password_hash: null, profile: {}, status: 'withdrawn' });
    const identities = await bed.t.db.query(`SELECT count(*)::int AS n FROM member_identities WHERE member_id = $1`, [
      memberId,
    ]);
    expect(identities.rows[0].n).toBe(0);
    // Terms agreements are the person's data too: state and history go with the rest.
    const terms = await bed.t.db.query(
      `SELECT (SELECT count(*)::int FROM member_terms WHERE member_id = $1) AS state,
              (SELECT count(*)::int FROM member_terms_history WHERE member_id = $1) AS history`,
      [memberId],
    );
    expect(terms.rows[0]).toEqual({ state: 0, history: 0 });
    const again = await json((await browserLogin(bed, { userId: p.id })).callback);
    expect(again.result).toBe('SIGNED_UP');
    expect(again.member.id).not.toBe(memberId);
  });

  it('refuses withdrawal without a recent authentication (RECERTIFICATION_REQUIRED)', async () => {
    const m = await signup(bed.t);
    await bed.t.db.query(`UPDATE sessions SET auth_time = now() - interval '1 hour'`);
    // A refreshed access token keeps the session's old auth_time.
    const refreshed = await call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } });
    const res = await call(bed.t, 'DELETE', '/members/me', { token: refreshed.body.accessToken });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('RECERTIFICATION_REQUIRED');
  });

  /** Mail jobs of `template` queued to `to` (the queue's own table: this bed logs at warn, mails at info). */
  const mailJobs = async (template: string, to: string) =>
    (
      await bed.t.db.query(
        `SELECT 1 FROM pgboss.job WHERE name = 'mail-send' AND data->>'template' = $1 AND data->>'to' = $2`,
        [template, to],
      )
    ).rowCount;

  // Found by a security review: a stolen session of any age could attach the thief's Kakao account, which then
  // opened the member's account for good, and nothing told the member.
  it('links a Kakao account only after a recent authentication, and tells the member by mail', async () => {
    const m = await signup(bed.t);
    const memberId = m.outcome.member.id as string;
    await bed.t.db.query(`UPDATE members SET email_verified = true WHERE id = $1`, [memberId]);
    await bed.t.db.query(`UPDATE sessions SET auth_time = now() - interval '1 hour' WHERE member_id = $1`, [memberId]);
    const stale = (await call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } })).body;

    const p = person();
    const code = await hybridCode(p.id);
    const exchanges = bed.kakao.callCount('POST', '/oauth/token');
    const refused = await call(bed.t, 'POST', '/members/me/kakao', {
      token: stale.accessToken,
      body: { code, redirectUri: HYBRID_REDIRECT },
    });
    expect({ status: refused.status, code: refused.body.code }).toEqual({
      status: 403,
      code: 'RECERTIFICATION_REQUIRED',
    });
    // Refused before the code was spent at Kakao: it still works once the member has logged in again.
    expect(bed.kakao.callCount('POST', '/oauth/token')).toBe(exchanges);
    const viaRedirect = await call(bed.t, 'POST', '/auth/kakao/authorize-url', {
      token: stale.accessToken,
      body: { intent: 'link' },
    });
    expect({ status: viaRedirect.status, code: viaRedirect.body.code }).toEqual({
      status: 403,
      code: 'RECERTIFICATION_REQUIRED',
    });
    expect(await mailJobs('account-linked', m.email)).toBe(0);

    const fresh = (await call(bed.t, 'POST', '/auth/login', { body: { email: m.email, password: m.password } })).body;
    const linked = await call(bed.t, 'POST', '/members/me/kakao', {
      token: fresh.tokens.accessToken,
      body: { code, redirectUri: HYBRID_REDIRECT },
    });
    expect(linked.status).toBe(200);
    expect(linked.body.identities).toEqual([expect.objectContaining({ providerUserId: p.id })]);
    expect(await mailJobs('account-linked', m.email)).toBe(1);

    // A member who has a Kakao account already is told so, whatever the age of the session.
    const again = await call(bed.t, 'POST', '/members/me/kakao', {
      token: stale.accessToken,
      body: { code: await hybridCode(person().id), redirectUri: HYBRID_REDIRECT },
    });
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: 'MEMBER_ALREADY_HAS_KAKAO' });
  });

  it('links one Kakao account to exactly one of two members racing for it', async () => {
    const p = person();
    const [a, b] = await Promise.all([signup(bed.t), signup(bed.t)]);
    const [codeA, codeB] = await Promise.all([hybridCode(p.id), hybridCode(p.id)]);
    const results = await Promise.all([
      call(bed.t, 'POST', '/members/me/kakao', {
        token: a.accessToken,
        body: { code: codeA, redirectUri: HYBRID_REDIRECT },
      }),
      call(bed.t, 'POST', '/members/me/kakao', {
        token: b.accessToken,
        body: { code: codeB, redirectUri: HYBRID_REDIRECT },
      }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)!.body.code).toBe('KAKAO_ALREADY_LINKED');
  });
});
