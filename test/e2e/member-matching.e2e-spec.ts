import { randomBytes } from 'node:crypto';
import type { Persona } from '../../emulator';
import { json } from '../support/app';
import { call, signup } from '../support/http';
import { waitForMail } from '../support/mail';
import {
  browserLogin,
  FRONTEND,
  HYBRID_REDIRECT,
  hybridCode,
  hybridLogin,
  KakaoTestBed,
  startWithKakao,
} from '../support/kakao';

describe('matching Kakao users to existing members', () => {
  let bed: KakaoTestBed;
  let next = 1;
  beforeAll(async () => {
    bed = await startWithKakao({ env: { LOG_LEVEL: 'info' } });
  });
  afterAll(() => bed.close());

  /** A fresh Kakao person; by default with a valid, verified email. */
  function person(overrides: Partial<Persona> = {}): Persona {
    const id = `40000000000000${String(20000 + next++).padStart(5, '0')}`;
    const persona: Persona = {
      id,
      nickname: `nick${id.slice(-4)}`,
      name: '홍길동',
      email: `kakao.${randomBytes(4).toString('hex')}@example.com`,
      isEmailValid: true,
      isEmailVerified: true,
      ...overrides,
    };
    bed.kakao.addPersona(persona);
    return persona;
  }

  async function emailMember(email: string, name: string, verified = true) {
    const m = await signup(bed.t, { email, name });
    if (verified) await bed.t.db.query(`UPDATE members SET email_verified = true WHERE id = $1`, [m.outcome.member.id]);
    return m;
  }

  const kakaoLogin = async (userId: string) => json((await browserLogin(bed, { userId })).callback);
  const members = async () => (await bed.t.db.query(`SELECT count(*)::int AS n FROM members`)).rows[0].n as number;

  it('full match (trusted email, verified member email, same name): LINK_REQUIRED, confirmed into LINKED', async () => {
    const p = person({ name: '홍 길동' });
    const existing = await emailMember(p.email!, '홍길동');
    const before = await members();
    const outcome = await kakaoLogin(p.id);
    expect(outcome).toEqual({
      result: 'LINK_REQUIRED',
      linkTicket: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      candidate: { maskedEmail: expect.stringMatching(/^ka\*\*\*@ex\*\*\*\.com$/), maskedName: '홍*동' },
    });
    expect(await members()).toBe(before);
    const linked = await call(bed.t, 'POST', '/auth/link/confirm', { body: { linkTicket: outcome.linkTicket } });
    expect(linked.status).toBe(200);
    expect(linked.body.result).toBe('LINKED');
    expect(linked.body.member.id).toBe(existing.outcome.member.id);
    expect(linked.body.member.loginMethods).toEqual(['password', 'kakao']);
    const again = await call(bed.t, 'POST', '/auth/link/confirm', { body: { linkTicket: outcome.linkTicket } });
    expect(again.body.code).toBe('TICKET_INVALID');
    expect((await kakaoLogin(p.id)).result).toBe('LOGGED_IN');
  });

  it('email-only match (names differ): VERIFICATION_REQUIRED, proven with the password', async () => {
    const p = person({ name: '김철수' });
    const existing = await emailMember(p.email!, '홍길동');
    const outcome = await kakaoLogin(p.id);
    expect(outcome.result).toBe('VERIFICATION_REQUIRED');
    const confirm = await call(bed.t, 'POST', '/auth/link/confirm', { body: { linkTicket: outcome.linkTicket } });
    expect(confirm.body.code).toBe('TICKET_INVALID');
    const wrong = await call(bed.t, 'POST', '/auth/link/verify', {
      body: { linkTicket: outcome.linkTicket, email: existing.email, password: 'wrong password' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
    const right = await call(bed.t, 'POST', '/auth/link/verify', {
      body: { linkTicket: outcome.linkTicket, email: existing.email, password: existing.password },
    });
    expect(right.status).toBe(200);
    expect(right.body.result).toBe('LINKED');
    expect(right.body.member.id).toBe(existing.outcome.member.id);
  });

  it('the local email is not verified: VERIFICATION_REQUIRED', async () => {
    const p = person();
    await emailMember(p.email!, '홍길동', false);
    expect((await kakaoLogin(p.id)).result).toBe('VERIFICATION_REQUIRED');
  });

  it("Kakao's email is not verified: VERIFICATION_REQUIRED, never LINK_REQUIRED", async () => {
    const p = person({ isEmailVerified: false });
    await emailMember(p.email!, '홍길동');
    expect((await kakaoLogin(p.id)).result).toBe('VERIFICATION_REQUIRED');
  });

  it('name-only match (one member with that name): VERIFICATION_REQUIRED', async () => {
    const name = `유일한${randomBytes(3).toString('hex')}`;
    const existing = await emailMember(`other.${randomBytes(4).toString('hex')}@example.com`, name);
    const p = person({ name });
    const outcome = await kakaoLogin(p.id);
    expect(outcome.result).toBe('VERIFICATION_REQUIRED');
    const proof = await call(bed.t, 'POST', '/auth/link/verify', {
      body: { linkTicket: outcome.linkTicket, email: existing.email, password: existing.password },
    });
    expect(proof.body.result).toBe('LINKED');
  });

  it('name-only match on a Latin name with spaces and an s, compared without case or spaces', async () => {
    const tag = randomBytes(3).toString('hex');
    await emailMember(`latin.${tag}@example.com`, `Jess Smith ${tag}`);
    const outcome = await kakaoLogin(person({ name: `jess  smith${tag}` }).id);
    expect(outcome.result).toBe('VERIFICATION_REQUIRED');
  });

  it('name-only match with several members of that name: no candidate to reveal, so SIGNED_UP', async () => {
    const name = `동명이인${randomBytes(3).toString('hex')}`;
    await emailMember(`one.${randomBytes(4).toString('hex')}@example.com`, name);
    await emailMember(`two.${randomBytes(4).toString('hex')}@example.com`, name);
    const before = await members();
    const outcome = await kakaoLogin(person({ name }).id);
    expect(outcome.result).toBe('SIGNED_UP');
    expect(outcome.linkTicket).toBeUndefined();
    expect(await members()).toBe(before + 1);
  });

  it('family sites: a Kakao user whose consent was given to a sibling service signs up here, and it is said', async () => {
    // Connected to the shared Kakao app (and its terms agreed) long before this service ever saw them.
    const p = person({
      name: `형제${randomBytes(3).toString('hex')}`,
      linked: true,
      connectedAt: '2025-05-01T00:00:00Z',
      agreedTerms: ['service_2024', 'privacy_2024'],
    });
    const outcome = await kakaoLogin(p.id);
    expect(outcome.result).toBe('SIGNED_UP');
    const audit = await bed.t.db.query(
      `SELECT data->>'consentFrom' AS origin FROM audit_events WHERE type = 'member.signed_up' AND member_id = $1`,
      [outcome.member.id],
    );
    expect(audit.rows).toEqual([{ origin: 'sibling_service' }]);
    expect(bed.t.logs.some((l) => String(l.msg).includes(`sibling service (member ${outcome.member.id})`))).toBe(true);

    // A first consent given in this very login is not a sibling's.
    const fresh = await kakaoLogin(person({ name: `새로${randomBytes(3).toString('hex')}` }).id);
    const own = await bed.t.db.query(
      `SELECT data->>'consentFrom' AS origin FROM audit_events WHERE type = 'member.signed_up' AND member_id = $1`,
      [fresh.member.id],
    );
    expect(own.rows).toEqual([{ origin: null }]);
  });

  it("without Kakao's name (the default KAKAO_SCOPES does not ask it) the nickname stands in: LINK_REQUIRED", async () => {
    const nickname = `닉${randomBytes(3).toString('hex')}`;
    const p = person({ name: undefined, nickname });
    await emailMember(p.email!, nickname);
    expect((await kakaoLogin(p.id)).result).toBe('LINK_REQUIRED');
  });

  it('no email consent: MANDATORY_ITEMS_NOT_AGREED with a consent URL asking exactly that, and nothing created', async () => {
    const p = person({ declines: ['account_email'] });
    const before = await members();
    const outcome = await kakaoLogin(p.id);
    expect(outcome.result).toBe('MANDATORY_ITEMS_NOT_AGREED');
    expect(outcome.missingItems).toEqual(['account_email']);
    // Kakao's own authorize URL (API.md: "authorize URL with scope="), asking the missing item again.
    const consent = new URL(outcome.consentUrl);
    expect(consent.origin + consent.pathname).toBe(`${bed.kakao.url}/oauth/authorize`);
    expect(consent.searchParams.get('scope')!.split(' ')).toContain('account_email');
    expect(consent.searchParams.get('code_challenge_method')).toBe('S256');
    expect(await members()).toBe(before);
  });

  it("hybrid flow: the consentUrl is Kakao's, bound to the front-end's browser by this answer's cookie", async () => {
    const p = person({ declines: ['account_email'] });
    const res = await fetch(`${bed.t.url}/auth/kakao/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: await hybridCode(bed, p.id), redirectUri: HYBRID_REDIRECT }),
    });
    const outcome = await json(res);
    expect(outcome.result).toBe('MANDATORY_ITEMS_NOT_AGREED');
    const cookie = res.headers.get('set-cookie')!.split(';')[0];
    const again = await browserLogin(bed, {
      userId: p.id,
      start: outcome.consentUrl,
      cookie,
      kakaoQuery: { emulator_agree: 'all' },
    });
    expect(again.callback.status).toBe(200);
    expect((await json(again.callback)).result).toBe('SIGNED_UP');
    // Another browser (no cookie) cannot finish it: the binding is what stops login CSRF.
    const stranger = await call(bed.t, 'POST', '/auth/kakao/code', {
      body: { code: await hybridCode(bed, person({ declines: ['account_email'] }).id), redirectUri: HYBRID_REDIRECT },
    });
    const foreign = await browserLogin(bed, { userId: p.id, start: stranger.body.consentUrl, cookie: 'x=y' });
    expect((await json(foreign.callback)).code).toBe('INVALID_STATE');
  });

  it('hybrid flow with a returnTo: the consentUrl brings the browser back to the front-end with a ticket', async () => {
    const p = person({ declines: ['account_email'] });
    const code = await hybridCode(bed, p.id);
    const refused = await call(bed.t, 'POST', '/auth/kakao/code', {
      body: { code, redirectUri: HYBRID_REDIRECT, returnTo: 'https://evil.example/done' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('RETURN_URL_NOT_ALLOWED');
    // Refused before Kakao was asked: the front-end's code is still good.
    const res = await fetch(`${bed.t.url}/auth/kakao/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, redirectUri: HYBRID_REDIRECT, returnTo: FRONTEND }),
    });
    const outcome = await json(res);
    expect(outcome.result).toBe('MANDATORY_ITEMS_NOT_AGREED');
    const again = await browserLogin(bed, {
      userId: p.id,
      start: outcome.consentUrl,
      cookie: res.headers.get('set-cookie')!.split(';')[0],
      kakaoQuery: { emulator_agree: 'all' },
    });
    expect(again.callback.status).toBe(303);
    const back = new URL(again.callback.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(FRONTEND);
    const exchanged = await call(bed.t, 'POST', '/auth/tickets/exchange', {
      body: { ticket: back.searchParams.get('ticket') },
    });
    expect(exchanged.body.result).toBe('SIGNED_UP');
    expect(exchanged.body.member.email).toBe(p.email);
  });

  it("native login: no browser is known, so the consentUrl is this service's login URL, which binds the one opening it", async () => {
    const p = person({ declines: ['account_email'] });
    const tokens = await bed.kakao.issueTokensFor(p.id);
    const res = await call(bed.t, 'POST', '/auth/kakao/native', { body: { accessToken: tokens.access_token } });
    expect(res.body.result).toBe('MANDATORY_ITEMS_NOT_AGREED');
    const consent = new URL(res.body.consentUrl);
    // The test service listens on a random port, not PUBLIC_URL's: its path and query are what it handed out.
    expect(consent.pathname).toBe('/auth/kakao/login');
    expect(consent.searchParams.get('scope')).toBe('account_email');
    const again = await browserLogin(bed, {
      userId: p.id,
      start: `${bed.t.url}${consent.pathname}${consent.search}`,
      kakaoQuery: { emulator_agree: 'all' },
    });
    expect((await json(again.callback)).result).toBe('SIGNED_UP');
  });

  it('nothing matches: SIGNED_UP in one step', async () => {
    const p = person({ name: `새사람${randomBytes(3).toString('hex')}` });
    const outcome = await kakaoLogin(p.id);
    expect(outcome.result).toBe('SIGNED_UP');
    expect(outcome.member.email).toBe(p.email);
  });

  it('a deactivated member is told DEACTIVATED_MEMBER and mailed a reactivation link', async () => {
    const p = person({ name: `휴면${randomBytes(3).toString('hex')}` });
    const signedUp = await kakaoLogin(p.id);
    await bed.t.db.query(`UPDATE members SET status = 'deactivated' WHERE id = $1`, [signedUp.member.id]);
    expect(await kakaoLogin(p.id)).toEqual({ result: 'DEACTIVATED_MEMBER' });
    await waitForMail(bed.t, { to: p.email, template: 'reactivation' });
  });

  it('a deactivated Kakao member without an email is mailed at the address their Kakao account proves', async () => {
    const p = person({ name: `무메일${randomBytes(3).toString('hex')}` });
    const signedUp = await kakaoLogin(p.id);
    // As if signed up with KAKAO_REQUIRED_ITEMS that did not ask for the email.
    await bed.t.db.query(
      `UPDATE members SET email = NULL, email_verified = false, status = 'deactivated' WHERE id = $1`,
      [signedUp.member.id],
    );
    expect(await kakaoLogin(p.id)).toEqual({ result: 'DEACTIVATED_MEMBER' });
    const mail = await waitForMail(bed.t, { to: p.email, template: 'reactivation' });
    const token = new URL(mail.link!).hash.split('=')[1];
    const back = await call(bed.t, 'POST', '/auth/reactivate', { body: { token } });
    expect(back.status).toBe(200);
    expect(back.body.member).toMatchObject({ id: signedUp.member.id, status: 'active', email: null });
    // The address only carried the link: it did not become the member's email.
    expect((await kakaoLogin(p.id)).result).toBe('LOGGED_IN');
  });

  it('a deactivated Kakao member with no address anywhere: no mail, and the attempt is audited for an operator', async () => {
    const p = person({ name: `무주소${randomBytes(3).toString('hex')}`, isEmailVerified: false });
    const signedUp = await kakaoLogin(p.id);
    await bed.t.db.query(
      `UPDATE members SET email = NULL, email_verified = false, status = 'deactivated' WHERE id = $1`,
      [signedUp.member.id],
    );
    expect(await kakaoLogin(p.id)).toEqual({ result: 'DEACTIVATED_MEMBER' });
    const audit = await bed.t.db.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE type = $1 AND member_id = $2`,
      ['member.reactivation_unreachable', signedUp.member.id],
    );
    expect(audit.rows[0].n).toBe(1);
    expect(bed.t.logs.some((l) => (l.mail as { to?: string } | undefined)?.to === p.email)).toBe(false);
  });

  describe('an existing member who is deactivated', () => {
    const deactivate = (memberId: string) =>
      bed.t.db.query(`UPDATE members SET status = 'deactivated' WHERE id = $1`, [memberId]);
    const identities = async (kakaoId: string) =>
      (await bed.t.db.query(`SELECT count(*)::int AS n FROM member_identities WHERE provider_user_id = $1`, [kakaoId]))
        .rows[0].n as number;
    const sessions = async (memberId: string) =>
      (await bed.t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE member_id = $1`, [memberId])).rows[0]
        .n as number;

    it('a first Kakao login matching them by email is DEACTIVATED_MEMBER, never a second account', async () => {
      const p = person();
      const existing = await emailMember(p.email!, '홍길동');
      await deactivate(existing.outcome.member.id);
      const before = await members();
      expect(await kakaoLogin(p.id)).toEqual({ result: 'DEACTIVATED_MEMBER' });
      expect(await members()).toBe(before);
      expect(await identities(p.id)).toBe(0);
      await waitForMail(bed.t, { to: existing.email, template: 'reactivation' });
    });

    it('one matching them by name only must prove the account first: no mail goes out on a shared name', async () => {
      const name = `잠든${randomBytes(3).toString('hex')}`;
      const existing = await emailMember(`dormant.${randomBytes(4).toString('hex')}@example.com`, name);
      await deactivate(existing.outcome.member.id);
      const before = await members();
      const outcome = await kakaoLogin(person({ name }).id);
      expect(outcome.result).toBe('VERIFICATION_REQUIRED');
      expect(await members()).toBe(before);
      const right = await call(bed.t, 'POST', '/auth/link/verify', {
        body: { linkTicket: outcome.linkTicket, email: existing.email, password: existing.password },
      });
      expect(right.body).toEqual({ result: 'DEACTIVATED_MEMBER' });
      await waitForMail(bed.t, { to: existing.email, template: 'reactivation' });
    });

    it('confirming a link after they were deactivated: DEACTIVATED_MEMBER, nothing linked, no session', async () => {
      const p = person();
      const existing = await emailMember(p.email!, '홍길동');
      const outcome = await kakaoLogin(p.id);
      expect(outcome.result).toBe('LINK_REQUIRED');
      await deactivate(existing.outcome.member.id);
      const sessionsBefore = await sessions(existing.outcome.member.id);
      const confirmed = await call(bed.t, 'POST', '/auth/link/confirm', { body: { linkTicket: outcome.linkTicket } });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body).toEqual({ result: 'DEACTIVATED_MEMBER' });
      expect(await identities(p.id)).toBe(0);
      expect(await sessions(existing.outcome.member.id)).toBe(sessionsBefore);
      await waitForMail(bed.t, { to: existing.email, template: 'reactivation' });
    });

    it('proving the account after they were deactivated: DEACTIVATED_MEMBER once the password is right', async () => {
      const p = person({ name: '김철수' });
      const existing = await emailMember(p.email!, '홍길동');
      const outcome = await kakaoLogin(p.id);
      expect(outcome.result).toBe('VERIFICATION_REQUIRED');
      await deactivate(existing.outcome.member.id);
      const wrong = await call(bed.t, 'POST', '/auth/link/verify', {
        body: { linkTicket: outcome.linkTicket, email: existing.email, password: 'wrong password' },
      });
      expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
      const right = await call(bed.t, 'POST', '/auth/link/verify', {
        body: { linkTicket: outcome.linkTicket, email: existing.email, password: existing.password },
      });
      expect(right.status).toBe(200);
      expect(right.body).toEqual({ result: 'DEACTIVATED_MEMBER' });
      expect(await identities(p.id)).toBe(0);
      await waitForMail(bed.t, { to: existing.email, template: 'reactivation' });
    });
  });

  describe('an app with auto-link OFF: Kakao users are PREREGISTERED until the service signs them up', () => {
    beforeAll(() => bed.kakao.setAutoLink(false));
    afterAll(() => {
      bed.kakao.setAutoLink(true);
      bed.kakao.clearFaults();
    });
    const signups = () => bed.kakao.callCount('POST', '/v1/user/signup');

    it('a first login signs the user up at Kakao and decides on the whole user: a full match is LINK_REQUIRED', async () => {
      // Kakao withholds the name of a PREREGISTERED user: deciding on that, the nickname would stand in for
      // it and a full match would look like an email-only one (VERIFICATION_REQUIRED).
      const p = person({ name: '홍 길동' });
      const existing = await emailMember(p.email!, '홍길동');
      const before = signups();
      const outcome = await kakaoLogin(p.id);
      expect(outcome.result).toBe('LINK_REQUIRED');
      expect(signups()).toBe(before + 1);
      expect(bed.kakao.snapshot(p.id).signedUp).toBe(true);
      const linked = await call(bed.t, 'POST', '/auth/link/confirm', { body: { linkTicket: outcome.linkTicket } });
      expect(linked.body.result).toBe('LINKED');
      expect(linked.body.member.id).toBe(existing.outcome.member.id);
      expect((await kakaoLogin(p.id)).result).toBe('LOGGED_IN');
      expect(signups()).toBe(before + 1);
    });

    it('one-click sign-up keeps what Kakao gives only to REGISTERED users', async () => {
      const name = `가입${randomBytes(3).toString('hex')}`;
      const p = person({ name, phoneNumber: '+82 010-2222-3333' });
      const outcome = await kakaoLogin(p.id);
      expect(outcome.result).toBe('SIGNED_UP');
      expect(outcome.member.name).toBe(name);
      const me = await call(bed.t, 'GET', '/members/me', { token: outcome.tokens.accessToken });
      expect(JSON.stringify(me.body)).toContain('+821022223333');
      expect(bed.kakao.snapshot(p.id).signedUp).toBe(true);
    });

    it('a native SDK login is signed up with the app’s own token', async () => {
      const p = person({ name: `네이티브${randomBytes(3).toString('hex')}` });
      const tokens = await bed.kakao.issueTokensFor(p.id);
      expect(bed.kakao.snapshot(p.id).signedUp).toBe(false);
      const res = await call(bed.t, 'POST', '/auth/kakao/native', { body: { accessToken: tokens.access_token } });
      expect(res.body.result).toBe('SIGNED_UP');
      expect(res.body.member.name).toBe(p.name);
      expect(bed.kakao.snapshot(p.id).signedUp).toBe(true);
    });

    it("Kakao answering 'already registered' (-102) is the outcome wanted: the login goes on", async () => {
      const p = person({ name: `이미${randomBytes(3).toString('hex')}` });
      bed.kakao.injectFault({
        path: '/v1/user/signup',
        status: 400,
        body: { msg: 'already registered', code: -102 },
        times: 1,
      });
      const before = signups();
      const res = await hybridLogin(bed, p.id);
      expect(res.status).toBe(200);
      expect(res.body.result).toBe('SIGNED_UP');
      expect(signups()).toBe(before + 1);
    });

    it('a signup Kakao fails ends the login with a 503 and nothing written; the next try succeeds', async () => {
      const p = person({ name: `실패${randomBytes(3).toString('hex')}` });
      const before = await members();
      // Two answers: the call is retried once, as a read is ("already registered" makes a retry harmless).
      bed.kakao.injectFault({ path: '/v1/user/signup', status: 500, times: 2 });
      const failed = await hybridLogin(bed, p.id);
      expect(failed.status).toBe(503);
      expect(failed.body.code).toBe('KAKAO_UNAVAILABLE');
      expect(await members()).toBe(before);
      expect(bed.kakao.snapshot(p.id).signedUp).toBe(false);
      const again = await hybridLogin(bed, p.id);
      expect(again.body.result).toBe('SIGNED_UP');
      expect(bed.kakao.snapshot(p.id).signedUp).toBe(true);
    });

    it("a token Kakao refuses at the signup is the native caller's mistake: 401, nothing created", async () => {
      const p = person();
      const tokens = await bed.kakao.issueTokensFor(p.id);
      const before = await members();
      bed.kakao.injectFault({
        path: '/v1/user/signup',
        status: 401,
        headers: { 'www-authenticate': 'Bearer error=invalid_token' },
        body: { msg: 'this access token does not exist', code: -401 },
        times: 1,
      });
      const res = await call(bed.t, 'POST', '/auth/kakao/native', { body: { accessToken: tokens.access_token } });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
      expect(await members()).toBe(before);
    });
  });

  it('records every decision in the audit trail', async () => {
    const rows = await bed.t.db.query(
      `SELECT data->>'decision' AS d FROM audit_events WHERE type = 'member.kakao_decision'`,
    );
    expect(new Set(rows.rows.map((r: { d: string }) => r.d))).toEqual(
      new Set([
        'LINK_REQUIRED',
        'LOGGED_IN',
        'VERIFICATION_REQUIRED',
        'MANDATORY_ITEMS_NOT_AGREED',
        'SIGNED_UP',
        'DEACTIVATED_MEMBER',
      ]),
    );
  });
});
