import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Persona } from '../../emulator/types';
import { QueueService } from '../../src/queue/queue.service';
import { TERMS_SYNC_QUEUE } from '../../src/terms/terms.service';
import { json, startTestApp } from '../support/app';
import { call, uniqueEmail } from '../support/http';
import { browserLogin, FRONTEND, hybridLogin, KakaoTestBed, PERSONA, startWithKakao } from '../support/kakao';

const CATALOG = JSON.parse(readFileSync('config/terms.json', 'utf8')) as Array<Record<string, unknown>>;
const REQUIRED = ['service_2024', 'privacy_2024'];

let personaSeq = 0;
/** A fresh Kakao user of the emulator (unique id and email), so tests never share one. */
function newPersona(bed: KakaoTestBed, overrides: Partial<Persona> = {}): string {
  personaSeq += 1;
  const id = `50000000000000${String(personaSeq).padStart(5, '0')}`;
  bed.kakao.addPersona({
    id,
    nickname: `terms${personaSeq}`,
    name: `약관${personaSeq}`,
    email: `terms${personaSeq}.${Date.now()}@kakao.example`,
    isEmailValid: true,
    isEmailVerified: true,
    ...overrides,
  });
  return id;
}

/** Like persona 1008: linked to the app before Kakao Sync, with only service_2024 agreed. */
const linkedWithoutPrivacy = (bed: KakaoTestBed) =>
  newPersona(bed, { linked: true, connectedAt: '2023-11-20T01:00:00Z', agreedTerms: ['service_2024'] });

const myTerms = async (bed: KakaoTestBed, token: string) => {
  const res = await call(bed.t, 'GET', '/members/me/terms', { token });
  expect(res.status).toBe(200);
  return res.body as {
    terms: Array<Record<string, unknown>>;
    history: Array<Record<string, unknown>>;
    syncedAt: string | null;
    stale: boolean;
  };
};
const termOf = (view: { terms: Array<Record<string, unknown>> }, tag: string) => view.terms.find((t) => t.tag === tag)!;

describe('Kakao Sync terms (TermsModule)', () => {
  let bed: KakaoTestBed;

  beforeAll(async () => {
    bed = await startWithKakao();
  });
  afterAll(async () => {
    await bed.close();
  });

  it('GET /terms is the catalog of TERMS_CATALOG_FILE, public', async () => {
    const res = await call(bed.t, 'GET', '/terms');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(CATALOG);
  });

  it('first login with every term agreed: each agreement recorded from Kakao Sync with its time and path', async () => {
    const res = await json((await browserLogin(bed, { userId: PERSONA.full })).callback);
    expect(res.result).toBe('SIGNED_UP');
    expect(bed.kakao.callCount('GET', '/v2/user/service_terms')).toBeGreaterThan(0);
    const view = await myTerms(bed, res.tokens.accessToken);
    const atKakao = new Map(bed.kakao.agreedTerms(PERSONA.full).map((t) => [t.tag, t]));
    for (const tag of ['service_2024', 'privacy_2024', 'marketing', 'location']) {
      expect(termOf(view, tag)).toMatchObject({
        agreed: true,
        source: 'kakao_sync',
        agreedBy: 'KAUTH',
        agreedAt: new Date(atKakao.get(tag)!.agreedAt).toISOString(),
      });
    }
    expect(termOf(view, 'marketing').revocable).toBe(true);
    expect(termOf(view, 'service_2024').revocable).toBe(false);
    expect(view.history.map((h) => h.tag).sort()).toEqual(['location', 'marketing', 'privacy_2024', 'service_2024']);
    expect(view.history.every((h) => h.agreed === true && h.source === 'kakao_sync')).toBe(true);
    expect(view.stale).toBe(false);
    expect(view.syncedAt).not.toBeNull();
  });

  it('first login with an optional term declined: recorded as not agreed, the login goes on', async () => {
    const res = await json((await browserLogin(bed, { userId: PERSONA.requiredTermsOnly })).callback);
    expect(res.result).toBe('SIGNED_UP');
    const view = await myTerms(bed, res.tokens.accessToken);
    expect(termOf(view, 'service_2024')).toMatchObject({ agreed: true, source: 'kakao_sync' });
    expect(termOf(view, 'marketing')).toMatchObject({ agreed: false, source: 'kakao_sync', agreedAt: null });
    expect(termOf(view, 'marketing').revocable).toBe(false);
    expect(view.history).toContainEqual(expect.objectContaining({ tag: 'location', agreed: false }));
  });

  it('a second login with nothing changed at Kakao adds no history', async () => {
    const first = await hybridLogin(bed, PERSONA.termsAgreed);
    expect(first.body.result).toBe('SIGNED_UP');
    const before = (await myTerms(bed, first.body.tokens.accessToken)).history.length;
    const second = await hybridLogin(bed, PERSONA.termsAgreed);
    expect(second.body.result).toBe('LOGGED_IN');
    expect((await myTerms(bed, second.body.tokens.accessToken)).history).toHaveLength(before);
  });

  it('a login asking for terms must name known tags and at least one required one (Kakao’s rule)', async () => {
    const start = (query: string) => fetch(`${bed.t.url}/auth/kakao/login?${query}`, { redirect: 'manual' });
    const unknown = await start('serviceTerms=no_such_term,privacy_2024');
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).code).toBe('UNKNOWN_TERM');
    const optionalOnly = await start('serviceTerms=marketing');
    expect(optionalOnly.status).toBe(400);
    expect((await json(optionalOnly)).code).toBe('VALIDATION_FAILED');
    const ok = await start('service_terms=privacy_2024,marketing');
    expect(ok.status).toBe(302);
    expect(new URL(ok.headers.get('location')!).searchParams.get('service_terms')).toBe('privacy_2024,marketing');
  });

  describe('a required term missing', () => {
    it('stops the first login with TERMS_REQUIRED and creates nothing', async () => {
      const res = await json((await browserLogin(bed, { userId: PERSONA.termsMissing })).callback);
      expect(res).toEqual({
        result: 'TERMS_REQUIRED',
        termsTicket: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        missingTerms: ['privacy_2024'],
        consentUrl: expect.any(String),
      });
      expect(new URL(res.consentUrl).searchParams.get('service_terms')).toBe('privacy_2024');
      const members = await bed.t.db.query(
        `SELECT count(*)::int AS n FROM member_identities WHERE provider_user_id = $1`,
        [PERSONA.termsMissing],
      );
      expect(members.rows[0].n).toBe(0);
    });

    it('Kakao re-consent path: the consentUrl asks Kakao for exactly those terms, then the login finishes', async () => {
      const login = await browserLogin(bed, { userId: PERSONA.termsMissing });
      const first = await json(login.callback);
      // Kakao's authorize URL, bound to the browser that got it: that browser follows it.
      expect(new URL(first.consentUrl).origin).toBe(new URL(bed.kakao.url).origin);
      const again = await browserLogin(bed, {
        userId: PERSONA.termsMissing,
        start: first.consentUrl,
        cookie: login.cookie,
      });
      const asked = bed.kakao.requests({ path: '/oauth/authorize' }).at(-1)!;
      expect(asked.query.service_terms).toBe('privacy_2024');
      const res = await json(again.callback);
      expect(res.result).toBe('SIGNED_UP');
      const view = await myTerms(bed, res.tokens.accessToken);
      expect(termOf(view, 'privacy_2024')).toMatchObject({ agreed: true, source: 'kakao_sync', agreedBy: 'KAUTH' });
    });

    /**
     * Both paths taken (a double submit, or a front-end offering both): the consentUrl finishes the login, then
     * the old ticket is posted. Its login read Kakao before the agreement there, and Kakao's upgrade API leaves
     * out terms already agreed: that old "not agreed" must not revoke the agreement given since.
     */
    async function agreedAtKakaoThenTicketPosted(kakaoId: string) {
      const login = await browserLogin(bed, { userId: kakaoId });
      const first = await json(login.callback);
      expect(first).toMatchObject({ result: 'TERMS_REQUIRED', missingTerms: ['privacy_2024'] });
      const again = await json(
        (await browserLogin(bed, { userId: kakaoId, start: first.consentUrl, cookie: login.cookie })).callback,
      );
      expect(again.result).toBe('SIGNED_UP');
      const token = again.tokens.accessToken as string;
      expect(termOf(await myTerms(bed, token), 'privacy_2024')).toMatchObject({ agreed: true, source: 'kakao_sync' });
      return { termsTicket: first.termsTicket as string, token };
    }

    const revocationsOf = (view: { history: Array<Record<string, unknown>> }, tag: string) =>
      view.history.filter((h) => h.tag === tag && h.agreed === false);

    it('the ticket posted after the consentUrl finished the login: a login, and the agreement stands', async () => {
      const kakaoId = linkedWithoutPrivacy(bed);
      const { termsTicket, token } = await agreedAtKakaoThenTicketPosted(kakaoId);

      const upgrades = bed.kakao.callCount('POST', '/v2/user/upgrade/service_terms');
      const posted = await call(bed.t, 'POST', '/auth/terms/agree', { body: { termsTicket, tags: ['privacy_2024'] } });
      expect(posted.status).toBe(200);
      expect(posted.body.result).toBe('LOGGED_IN');
      // Kakao, read now, holds the agreement already: nothing to give there.
      expect(bed.kakao.callCount('POST', '/v2/user/upgrade/service_terms')).toBe(upgrades);

      const view = await myTerms(bed, posted.body.tokens.accessToken);
      expect(termOf(view, 'privacy_2024')).toMatchObject({ agreed: true, source: 'kakao_sync', agreedBy: 'KAUTH' });
      expect(revocationsOf(view, 'privacy_2024')).toEqual([]);
      expect(await myTerms(bed, token)).toEqual(view);
      expect(bed.kakao.agreedTerms(kakaoId).map((t) => t.tag)).toContain('privacy_2024');

      // Single use still.
      const replay = await call(bed.t, 'POST', '/auth/terms/agree', { body: { termsTicket, tags: ['privacy_2024'] } });
      expect(replay.status).toBe(400);
      expect(replay.body.code).toBe('TICKET_INVALID');
      expect((await hybridLogin(bed, kakaoId)).body.result).toBe('LOGGED_IN');
    });

    it('the same with Kakao down when the ticket is posted: a login, the agreement stands, the state stale', async () => {
      const kakaoId = linkedWithoutPrivacy(bed);
      const { termsTicket } = await agreedAtKakaoThenTicketPosted(kakaoId);

      const upgrades = bed.kakao.callCount('POST', '/v2/user/upgrade/service_terms');
      const fault = bed.kakao.injectFault({ path: '/v2/user/service_terms', status: 500, times: 2 });
      const posted = await call(bed.t, 'POST', '/auth/terms/agree', { body: { termsTicket, tags: ['privacy_2024'] } });
      // Used up: Kakao was read (and failed twice, the retry included), so it leaks into no other test.
      expect(bed.kakao.removeFault(fault)).toBe(false);
      expect(posted.status).toBe(200);
      expect(posted.body.result).toBe('LOGGED_IN');
      expect(bed.kakao.callCount('POST', '/v2/user/upgrade/service_terms')).toBe(upgrades);

      const view = await myTerms(bed, posted.body.tokens.accessToken);
      expect(termOf(view, 'privacy_2024')).toMatchObject({ agreed: true });
      expect(revocationsOf(view, 'privacy_2024')).toEqual([]);
      expect(view.stale).toBe(true);
    });

    it('service-page path: POST /auth/terms/agree records the agreement, gives it at Kakao and finishes', async () => {
      const kakaoId = linkedWithoutPrivacy(bed);
      const stopped = await hybridLogin(bed, kakaoId);
      expect(stopped.body.result).toBe('TERMS_REQUIRED');
      const { termsTicket } = stopped.body;

      const notAll = await call(bed.t, 'POST', '/auth/terms/agree', { body: { termsTicket, tags: ['marketing'] } });
      expect(notAll.status).toBe(400);
      expect(notAll.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { missingTerms: ['privacy_2024'] } });
      const unknown = await call(bed.t, 'POST', '/auth/terms/agree', {
        body: { termsTicket, tags: ['privacy_2024', 'no_such_term'] },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.code).toBe('UNKNOWN_TERM');

      const upgradesBefore = bed.kakao.callCount('POST', '/v2/user/upgrade/service_terms');
      const done = await call(bed.t, 'POST', '/auth/terms/agree', {
        body: { termsTicket, tags: ['privacy_2024', 'marketing'] },
      });
      expect(done.status).toBe(200);
      expect(done.body.result).toBe('SIGNED_UP');
      expect(done.body.tokens.accessToken).toEqual(expect.any(String));
      expect(bed.kakao.callCount('POST', '/v2/user/upgrade/service_terms')).toBe(upgradesBefore + 1);
      const atKakao = new Map(bed.kakao.agreedTerms(kakaoId).map((t) => [t.tag, t]));
      expect(atKakao.get('privacy_2024')?.agreedBy).toBe('KAPI');
      expect(atKakao.get('marketing')?.agreedBy).toBe('KAPI');

      const view = await myTerms(bed, done.body.tokens.accessToken);
      expect(termOf(view, 'privacy_2024')).toMatchObject({ agreed: true, source: 'service' });
      expect(termOf(view, 'marketing')).toMatchObject({ agreed: true, source: 'service' });
      expect(termOf(view, 'service_2024')).toMatchObject({ agreed: true, source: 'kakao_sync' });

      const replay = await call(bed.t, 'POST', '/auth/terms/agree', { body: { termsTicket, tags: ['privacy_2024'] } });
      expect(replay.status).toBe(400);
      expect(replay.body.code).toBe('TICKET_INVALID');

      // The agreement given at Kakao counts there too: the next login is a plain one.
      expect((await hybridLogin(bed, kakaoId)).body.result).toBe('LOGGED_IN');
    });

    /**
     * An email member whose consent the integrator kept itself (the service knows of no agreement), and a
     * Kakao account with the same verified email and name, linked to the app without the privacy term.
     */
    async function emailMemberWithKakaoTwin(label: string, name: string): Promise<string> {
      const email = uniqueEmail(label);
      const signup = await call(bed.t, 'POST', '/auth/signup', {
        body: { email, password: 'correct horse battery staple', name },
      });
      expect(signup.status).toBe(201);
      await bed.t.db.query(`UPDATE members SET email_verified = true WHERE id = $1`, [signup.body.member.id]);
      return newPersona(bed, {
        name,
        email,
        linked: true,
        connectedAt: '2024-01-01T00:00:00Z',
        agreedTerms: ['service_2024'],
      });
    }

    it('after LINK_REQUIRED: the link waits for the terms and is made with them', async () => {
      const kakaoId = await emailMemberWithKakaoTwin('terms-link', '김약관');
      const matched = await hybridLogin(bed, kakaoId);
      expect(matched.body.result).toBe('LINK_REQUIRED');
      const confirm = await call(bed.t, 'POST', '/auth/link/confirm', {
        body: { linkTicket: matched.body.linkTicket },
      });
      expect(confirm.body).toMatchObject({ result: 'TERMS_REQUIRED', missingTerms: ['privacy_2024'] });
      const identities = await bed.t.db.query(`SELECT 1 FROM member_identities WHERE provider_user_id = $1`, [kakaoId]);
      expect(identities.rowCount).toBe(0);
      const agreed = await call(bed.t, 'POST', '/auth/terms/agree', {
        body: { termsTicket: confirm.body.termsTicket, tags: ['privacy_2024'] },
      });
      expect(agreed.status).toBe(200);
      expect(agreed.body.result).toBe('LINKED');
      expect(agreed.body.member.identities[0].providerUserId).toBe(kakaoId);
    });

    it("after a link confirmed from a redirect login, the consentUrl still returns to that login's returnTo", async () => {
      const kakaoId = await emailMemberWithKakaoTwin('terms-link-return', '복귀약관');
      const returnTo = `${FRONTEND}/after-link`;
      const { callback } = await browserLogin(bed, { userId: kakaoId, returnTo });
      const ticket = new URL(callback.headers.get('location')!).searchParams.get('ticket')!;
      const matched = await call(bed.t, 'POST', '/auth/tickets/exchange', { body: { ticket } });
      expect(matched.body.result).toBe('LINK_REQUIRED');
      const confirm = await call(bed.t, 'POST', '/auth/link/confirm', {
        body: { linkTicket: matched.body.linkTicket },
      });
      expect(confirm.body.result).toBe('TERMS_REQUIRED');
      expect(new URL(confirm.body.consentUrl).searchParams.get('returnTo')).toBe(returnTo);
    });
  });

  describe('my page', () => {
    let token: string;
    let kakaoId: string;

    beforeAll(async () => {
      kakaoId = newPersona(bed);
      const res = await hybridLogin(bed, kakaoId);
      expect(res.body.result).toBe('SIGNED_UP');
      token = res.body.tokens.accessToken;
    });

    it('revoking an optional term revokes it at Kakao and records it; a second revoke is a no-op', async () => {
      const revokes = bed.kakao.callCount('POST', '/v2/user/revoke/service_terms');
      const res = await call(bed.t, 'DELETE', '/members/me/terms/marketing', { token });
      expect(res.status).toBe(204);
      expect(bed.kakao.callCount('POST', '/v2/user/revoke/service_terms')).toBe(revokes + 1);
      expect(bed.kakao.agreedTerms(kakaoId).map((t) => t.tag)).not.toContain('marketing');
      const view = await myTerms(bed, token);
      expect(termOf(view, 'marketing')).toMatchObject({ agreed: false, source: 'service', revocable: false });
      expect(view.history.at(-1)).toMatchObject({ tag: 'marketing', agreed: false, source: 'service' });

      const again = await call(bed.t, 'DELETE', '/members/me/terms/marketing', { token });
      expect(again.status).toBe(204);
      expect(bed.kakao.callCount('POST', '/v2/user/revoke/service_terms')).toBe(revokes + 1);
      expect((await myTerms(bed, token)).history).toHaveLength(view.history.length);
    });

    it('refuses to revoke a required term (409 TERM_NOT_REVOCABLE) and an unknown tag (UNKNOWN_TERM)', async () => {
      const required = await call(bed.t, 'DELETE', '/members/me/terms/service_2024', { token });
      expect(required.status).toBe(409);
      expect(required.body.code).toBe('TERM_NOT_REVOCABLE');
      const unknown = await call(bed.t, 'DELETE', '/members/me/terms/no_such_term', { token });
      expect(unknown.status).toBe(400);
      expect(unknown.body.code).toBe('UNKNOWN_TERM');
      expect(termOf(await myTerms(bed, token), 'service_2024').agreed).toBe(true);
    });

    it('agreeing on the page records it with source service and gives it at Kakao', async () => {
      const res = await call(bed.t, 'POST', '/members/me/terms', { token, body: { tags: ['marketing'] } });
      expect(res.status).toBe(200);
      expect(termOf(res.body, 'marketing')).toMatchObject({ agreed: true, source: 'service', revocable: true });
      expect(bed.kakao.agreedTerms(kakaoId).find((t) => t.tag === 'marketing')?.agreedBy).toBe('KAPI');
      const unknown = await call(bed.t, 'POST', '/members/me/terms', { token, body: { tags: ['nope'] } });
      expect(unknown.body.code).toBe('UNKNOWN_TERM');
      const empty = await call(bed.t, 'POST', '/members/me/terms', { token, body: { tags: [] } });
      expect(empty.status).toBe(400);
    });

    it('keeps the history in the order things happened', async () => {
      await call(bed.t, 'DELETE', '/members/me/terms/location', { token });
      await call(bed.t, 'POST', '/members/me/terms', { token, body: { tags: ['location'] } });
      await call(bed.t, 'DELETE', '/members/me/terms/location', { token });
      const view = await myTerms(bed, token);
      const location = view.history.filter((h) => h.tag === 'location');
      expect(location.map((h) => [h.agreed, h.source])).toEqual([
        [true, 'kakao_sync'],
        [false, 'service'],
        [true, 'service'],
        [false, 'service'],
      ]);
      const times = view.history.map((h) => Date.parse(h.recordedAt as string));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    });

    it('when Kakao fails during the login sync, the login goes on and the state is stale until synced', async () => {
      bed.kakao.injectFault({ path: '/v2/user/service_terms', status: 500, times: 2 });
      const res = await hybridLogin(bed, kakaoId);
      expect(res.body.result).toBe('LOGGED_IN');
      const stale = await myTerms(bed, res.body.tokens.accessToken);
      expect(stale.stale).toBe(true);

      bed.kakao.injectFault({ path: '/v2/user/service_terms', status: 500, times: 2 });
      const failed = await call(bed.t, 'POST', '/members/me/terms/sync', { token: res.body.tokens.accessToken });
      expect(failed.status).toBe(503);
      expect(failed.body.code).toBe('KAKAO_UNAVAILABLE');

      // Kakao changed meanwhile (agreed again there): the next sync brings it in. Kakao's times have whole
      // seconds, and an agreement in the same second as our revocation cannot be ordered after it.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      bed.kakao.linkUser(kakaoId, { terms: ['location'] });
      const synced = await call(bed.t, 'POST', '/members/me/terms/sync', { token: res.body.tokens.accessToken });
      expect(synced.status).toBe(200);
      expect(synced.body.stale).toBe(false);
      expect(termOf(synced.body, 'location')).toMatchObject({ agreed: true, source: 'kakao_sync' });
    });

    it('a sync that failed at login is retried in the background', async () => {
      const other = newPersona(bed);
      expect((await hybridLogin(bed, other)).body.result).toBe('SIGNED_UP');
      bed.kakao.injectFault({ path: '/v2/user/service_terms', status: 503, times: 2 });
      const res = await hybridLogin(bed, other);
      expect(res.body.result).toBe('LOGGED_IN');
      const jobs = await bed.t.db.query(`SELECT data FROM pgboss.job WHERE name = $1`, [TERMS_SYNC_QUEUE]);
      expect(jobs.rows.map((r) => r.data.memberId)).toContain(res.body.member.id);
      // The job waits 30 s before its first try; start it now.
      await bed.t.db.query(`UPDATE pgboss.job SET start_after = now() WHERE name = $1`, [TERMS_SYNC_QUEUE]);
      await bed.t.app.get(QueueService).drained(TERMS_SYNC_QUEUE);
      expect((await myTerms(bed, res.body.tokens.accessToken)).stale).toBe(false);
    });
  });

  describe('Kakao no longer knows the member (unlink webhook missed, or a dormant account)', () => {
    /** A Kakao member with every term agreed through Kakao Sync, and marketing agreed again on our page. */
    async function member() {
      const kakaoId = newPersona(bed);
      const res = await hybridLogin(bed, kakaoId);
      expect(res.body.result).toBe('SIGNED_UP');
      const token = res.body.tokens.accessToken as string;
      expect((await call(bed.t, 'DELETE', '/members/me/terms/marketing', { token })).status).toBe(204);
      expect((await call(bed.t, 'POST', '/members/me/terms', { token, body: { tags: ['marketing'] } })).status).toBe(
        200,
      );
      return { kakaoId, token };
    }

    it('unlinked at Kakao without a webhook (-101): a revocation is done here, a sync lapses the Kakao Sync consents', async () => {
      const { kakaoId, token } = await member();
      void bed.kakao.unlinkUser(kakaoId);

      const revokes = bed.kakao.callCount('POST', '/v2/user/revoke/service_terms');
      const revoked = await call(bed.t, 'DELETE', '/members/me/terms/marketing', { token });
      expect(revoked.status).toBe(204);
      expect(bed.kakao.callCount('POST', '/v2/user/revoke/service_terms')).toBe(revokes + 1);
      const afterRevoke = await myTerms(bed, token);
      expect(termOf(afterRevoke, 'marketing')).toMatchObject({ agreed: false, source: 'service' });
      expect(afterRevoke.history.at(-1)).toMatchObject({ tag: 'marketing', agreed: false, source: 'service' });

      // Agreed on our page after the revocation: Kakao's unlink did not take it, so a sync keeps it.
      await call(bed.t, 'POST', '/members/me/terms', { token, body: { tags: ['marketing'] } });
      const reads = bed.kakao.callCount('GET', '/v2/user/service_terms');
      const synced = await call(bed.t, 'POST', '/members/me/terms/sync', { token });
      expect(synced.status).toBe(200);
      expect(bed.kakao.callCount('GET', '/v2/user/service_terms')).toBeGreaterThan(reads);
      expect(synced.body).toEqual(await myTerms(bed, token));
      expect(synced.body.stale).toBe(false);
      expect(termOf(synced.body, 'location')).toMatchObject({ agreed: false, source: 'kakao_sync', agreedAt: null });
      expect(termOf(synced.body, 'marketing')).toMatchObject({ agreed: true, source: 'service' });
      for (const tag of REQUIRED)
        expect(termOf(synced.body, tag)).toMatchObject({ agreed: true, source: 'kakao_sync' });
      expect(synced.body.history.at(-1)).toMatchObject({ tag: 'location', agreed: false, source: 'kakao_sync' });
      expect(synced.body.history.filter((h: { tag: string }) => h.tag === 'location')).toHaveLength(2);

      // Nothing more to lapse: a second sync changes nothing.
      const again = await call(bed.t, 'POST', '/members/me/terms/sync', { token });
      expect(again.status).toBe(200);
      expect(again.body.history).toHaveLength(synced.body.history.length);
    });

    it('any other refusal from Kakao still fails the revocation, and the term stays agreed', async () => {
      const { token } = await member();
      bed.kakao.injectFault({
        path: '/v2/user/revoke/service_terms',
        status: 403,
        body: { msg: 'app has no permission', code: -5 },
        times: 1,
      });
      const res = await call(bed.t, 'DELETE', '/members/me/terms/marketing', { token });
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ code: 'KAKAO_UNAVAILABLE', details: { kakaoCode: -5 } });
      expect(termOf(await myTerms(bed, token), 'marketing').agreed).toBe(true);

      // A dormant account (-103) keeps its agreements at Kakao: a refusal too, and a sync lapses nothing.
      const dormant = await member();
      bed.kakao.user(dormant.kakaoId)!.persona.dormant = true;
      const refused = await call(bed.t, 'DELETE', '/members/me/terms/marketing', { token: dormant.token });
      expect(refused.status).toBe(502);
      expect(refused.body.details).toMatchObject({ kakaoCode: -103 });
      const before = await myTerms(bed, dormant.token);
      expect(termOf(before, 'marketing').agreed).toBe(true);
      const synced = await call(bed.t, 'POST', '/members/me/terms/sync', { token: dormant.token });
      expect(synced.status).toBe(502);
      expect(synced.body.details).toMatchObject({ kakaoCode: -103 });
      expect((await myTerms(bed, dormant.token)).terms).toEqual(before.terms);
    });
  });

  describe('email members', () => {
    it('agree at sign-up with agreedTags; missing required ones are named', async () => {
      const body = { email: uniqueEmail('terms'), password: 'correct horse battery staple', name: '이메일' };
      const missing = await call(bed.t, 'POST', '/auth/signup', { body: { ...body, agreedTags: ['service_2024'] } });
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { missingTerms: ['privacy_2024'] } });
      expect(missing.body.message).toContain('privacy_2024');
      const unknown = await call(bed.t, 'POST', '/auth/signup', { body: { ...body, agreedTags: [...REQUIRED, 'x'] } });
      expect(unknown.body.code).toBe('UNKNOWN_TERM');

      const ok = await call(bed.t, 'POST', '/auth/signup', {
        body: { ...body, agreedTags: [...REQUIRED, 'marketing'] },
      });
      expect(ok.status).toBe(201);
      const view = await myTerms(bed, ok.body.tokens.accessToken);
      expect(view.terms.filter((t) => t.agreed).map((t) => [t.tag, t.source])).toEqual([
        ['service_2024', 'service'],
        ['privacy_2024', 'service'],
        ['marketing', 'service'],
      ]);
    });
  });
});

describe('a new required term added to the catalog', () => {
  let bed: KakaoTestBed;
  const dir = mkdtempSync(path.join(tmpdir(), 'terms-'));
  const before = path.join(dir, 'before.json');
  const after = path.join(dir, 'after.json');
  const NEW_TERM = {
    tag: 'privacy_2026',
    title: 'Privacy Policy 2026',
    url: 'https://example.com/p26',
    required: true,
    revocable: false,
  };

  beforeAll(async () => {
    writeFileSync(before, JSON.stringify(CATALOG));
    writeFileSync(after, JSON.stringify([...CATALOG, NEW_TERM]));
    bed = await startWithKakao({ env: { TERMS_CATALOG_FILE: before } });
  });
  afterAll(async () => {
    await bed.close();
  });

  /** The same database and emulator, the service restarted with another catalog file. */
  async function restartWith(file: string) {
    const { databaseUrl } = bed.t;
    await bed.t.close();
    bed.t = await startTestApp({ databaseUrl, env: { ...bed.env, TERMS_CATALOG_FILE: file } });
  }

  it('asks existing members at their next login, Kakao and email members alike', async () => {
    const kakaoMember = newPersona(bed);
    expect((await hybridLogin(bed, kakaoMember)).body.result).toBe('SIGNED_UP');
    const credentials = { email: uniqueEmail('newterm'), password: 'correct horse battery staple' };
    await call(bed.t, 'POST', '/auth/signup', { body: { ...credentials, name: '새약관', agreedTags: REQUIRED } });
    const untracked = { email: uniqueEmail('untracked'), password: 'correct horse battery staple' };
    await call(bed.t, 'POST', '/auth/signup', { body: { ...untracked, name: '무기록' } });

    bed.kakao.addServiceTerm({ tag: NEW_TERM.tag, required: true });
    await restartWith(after);
    expect((await call(bed.t, 'GET', '/terms')).body.map((t: { tag: string }) => t.tag)).toContain('privacy_2026');

    const kakao = await hybridLogin(bed, kakaoMember);
    expect(kakao.body).toMatchObject({ result: 'TERMS_REQUIRED', missingTerms: ['privacy_2026'] });
    expect(new URL(kakao.body.consentUrl).searchParams.get('service_terms')).toBe('privacy_2026');

    // Known missing now: with Kakao down the next login is still stopped, its consent URL asking every missing tag.
    bed.kakao.injectFault({ path: '/v2/user/service_terms', status: 500, times: 2 });
    const kakaoDown = await hybridLogin(bed, kakaoMember);
    expect(kakaoDown.body).toMatchObject({ result: 'TERMS_REQUIRED', missingTerms: ['privacy_2026'] });
    expect(new URL(kakaoDown.body.consentUrl).searchParams.get('service_terms')).toBe('privacy_2026');

    const agreed = await call(bed.t, 'POST', '/auth/terms/agree', {
      body: { termsTicket: kakao.body.termsTicket, tags: ['privacy_2026'] },
    });
    expect(agreed.body.result).toBe('LOGGED_IN');
    expect(bed.kakao.agreedTerms(kakaoMember).find((t) => t.tag === 'privacy_2026')?.agreedBy).toBe('KAPI');

    const email = await call(bed.t, 'POST', '/auth/login', { body: credentials });
    expect(email.body).toMatchObject({ result: 'TERMS_REQUIRED', missingTerms: ['privacy_2026'] });
    expect(email.body.consentUrl).toBeUndefined();
    expect(email.body.tokens).toBeUndefined();
    const emailDone = await call(bed.t, 'POST', '/auth/terms/agree', {
      body: { termsTicket: email.body.termsTicket, tags: ['privacy_2026'] },
    });
    expect(emailDone.body.result).toBe('LOGGED_IN');
    const view = await myTerms(bed, emailDone.body.tokens.accessToken);
    expect(termOf(view, 'privacy_2026')).toMatchObject({ agreed: true, source: 'service' });

    // A member signed up without agreedTags is not tracked here: the integrator keeps their consent.
    expect((await call(bed.t, 'POST', '/auth/login', { body: untracked })).body.result).toBe('LOGGED_IN');
  });
});
