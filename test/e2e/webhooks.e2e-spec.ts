import { generateKeyPair, SignJWT } from 'jose';
import { request as httpRequest } from 'node:http';
import type { Client } from 'pg';
import type { Persona } from '../../emulator/types';
import { KakaoUnlinks } from '../../src/kakao/kakao-unlinks';
import { InstanceLoad } from '../../src/queue/instance-load';
import { QueueService } from '../../src/queue/queue.service';
import { KakaoWebhooksService, WEBHOOK_QUEUE } from '../../src/webhooks/kakao-webhooks.service';
import { startTestApp } from '../support/app';
import { connect } from '../support/database';
import { call, signup } from '../support/http';
import {
  ADMIN_KEY,
  APP_ID,
  hybridCode,
  hybridLogin,
  HYBRID_REDIRECT,
  KakaoTestBed,
  startWithKakao,
} from '../support/kakao';

let seq = 0;
function newPersona(bed: KakaoTestBed, overrides: Partial<Persona> = {}): string {
  seq += 1;
  const id = `60000000000000${String(seq).padStart(5, '0')}`;
  bed.kakao.addPersona({
    id,
    nickname: `hook${seq}`,
    name: `웹훅${seq}`,
    email: `hook${seq}.${Date.now()}@kakao.example`,
    isEmailValid: true,
    isEmailVerified: true,
    ...overrides,
  });
  return id;
}

/** A member who can only log in with Kakao. */
async function kakaoOnlyMember(bed: KakaoTestBed) {
  const kakaoId = newPersona(bed);
  const res = await hybridLogin(bed, kakaoId);
  expect(res.body.result).toBe('SIGNED_UP');
  return { kakaoId, memberId: res.body.member.id as string, tokens: res.body.tokens };
}

/** An email member who linked Kakao from "my page" (two ways in). */
async function memberWithPassword(bed: KakaoTestBed) {
  const m = await signup(bed.t);
  const kakaoId = newPersona(bed);
  const code = await hybridCode(bed, kakaoId);
  const linked = await call(bed.t, 'POST', '/members/me/kakao', {
    token: m.accessToken,
    body: { code, redirectUri: HYBRID_REDIRECT },
  });
  expect(linked.status).toBe(200);
  return { ...m, kakaoId, memberId: m.outcome.member.id as string };
}

const drained = (bed: KakaoTestBed) => bed.t.app.get(QueueService).drained(WEBHOOK_QUEUE, 20_000);
const unlinkUrl = (bed: KakaoTestBed) => `${bed.t.url}/webhooks/kakao/unlink`;
const eventsUrl = (bed: KakaoTestBed) => `${bed.t.url}/webhooks/kakao/account-events`;
const status = async (bed: KakaoTestBed, memberId: string) =>
  (await bed.t.db.query(`SELECT status FROM members WHERE id = $1`, [memberId])).rows[0].status as string;
const hasKakao = async (bed: KakaoTestBed, memberId: string) =>
  (await bed.t.db.query(`SELECT 1 FROM member_identities WHERE member_id = $1`, [memberId])).rowCount === 1;

const KAKAO_AK = { authorization: `KakaoAK ${ADMIN_KEY}` };
/** The inbox row of the latest unlink call whose keyed user hash is this user's. */
const latestCall = async (bed: KakaoTestBed, userId: string) =>
  (
    await bed.t.db.query(
      `SELECT id, outcome, reason, kakao_user_id, received_at FROM webhook_inbox
       WHERE kind = 'unlink' AND kakao_user_hash = $1 ORDER BY id DESC LIMIT 1`,
      [bed.t.app.get(KakaoUnlinks).userHash(userId)],
    )
  ).rows[0] as { id: string; outcome: string | null; reason: string | null; kakao_user_id: string | null };
const storedKakaoTokens = async (bed: KakaoTestBed, memberId: string) =>
  (
    await bed.t.db.query(
      `SELECT count(*)::int AS n FROM kakao_tokens t JOIN member_identities i ON i.id = t.identity_id WHERE i.member_id = $1`,
      [memberId],
    )
  ).rows[0].n as number;

/** A raw HTTP call, for headers fetch refuses to send (two Authorization headers). */
function rawPost(url: string, headers: Record<string, string | string[]>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('Kakao webhooks', () => {
  let bed: KakaoTestBed;

  beforeAll(async () => {
    bed = await startWithKakao();
  });
  afterAll(async () => {
    await bed.close();
  });

  describe('unlink webhook', () => {
    it.each([
      ['ACCOUNT_DELETE', 'POST'],
      ['FORCED_ACCOUNT_DELETE', 'GET'],
      ['UNLINK_FROM_ADMIN', 'POST'],
      ['UNLINK_FROM_APPS', 'GET'],
      ['INCOMPLETE_SIGN_UP', 'POST'],
      ['SOME_FUTURE_REASON', 'GET'],
    ] as const)(
      '%s (%s): a Kakao-only member is withdrawn without calling Kakao again',
      async (referrerType, method) => {
        const m = await kakaoOnlyMember(bed);
        const unlinkCalls = bed.kakao.callCount('POST', '/v1/user/unlink');
        const res = await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: m.kakaoId, referrerType, method });
        expect(res.status).toBe(200);
        await drained(bed);
        expect(await status(bed, m.memberId)).toBe('withdrawn');
        expect((await call(bed.t, 'GET', '/members/me', { token: m.tokens.accessToken })).status).toBe(401);
        expect(bed.kakao.callCount('POST', '/v1/user/unlink')).toBe(unlinkCalls);
        const audit = await bed.t.db.query(
          `SELECT data FROM audit_events WHERE type = 'webhook.processed' AND member_id = $1`,
          [m.memberId],
        );
        expect(audit.rows[0].data).toMatchObject({ kind: 'unlink', reason: referrerType, outcome: 'withdrawn' });
      },
    );

    it('accepts a JSON body too', async () => {
      const m = await kakaoOnlyMember(bed);
      const res = await fetch(unlinkUrl(bed), {
        method: 'POST',
        headers: { authorization: `KakaoAK ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ app_id: APP_ID, user_id: m.kakaoId, referrer_type: 'UNLINK_FROM_APPS' }),
      });
      expect(res.status).toBe(200);
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('withdrawn');
    });

    it('a member with a password keeps the account and loses Kakao, its tokens and every session', async () => {
      const m = await memberWithPassword(bed);
      const res = await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: m.kakaoId });
      expect(res.status).toBe(200);
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('active');
      expect(await hasKakao(bed, m.memberId)).toBe(false);
      expect((await call(bed.t, 'GET', '/members/me', { token: m.accessToken })).status).toBe(401);
      const tokens = await bed.t.db.query(
        `SELECT count(*)::int AS n FROM kakao_tokens t JOIN member_identities i ON i.id = t.identity_id WHERE i.member_id = $1`,
        [m.memberId],
      );
      expect(tokens.rows[0].n).toBe(0);
      const login = await call(bed.t, 'POST', '/auth/login', { body: { email: m.email, password: m.password } });
      // The required terms the person accepted (through Kakao Sync) stand with the account.
      expect(login.body.result).toBe('LOGGED_IN');
      expect(login.body.member.profile.nickname ?? null).toBeNull();
    });

    it('after an unlink at Kakao the same Kakao account signs up anew', async () => {
      const m = await kakaoOnlyMember(bed);
      const sent = await bed.kakao.unlinkUser(m.kakaoId, { webhook: { url: unlinkUrl(bed) } });
      expect(sent?.status).toBe(200);
      await drained(bed);
      // Kakao's auth_time has whole seconds: a new login in the unlink's own second counts as after it.
      const again = await hybridLogin(bed, m.kakaoId);
      expect(again.body.result).toBe('SIGNED_UP');
      expect(again.body.member.id).not.toBe(m.memberId);
    });

    it('refuses every bad Authorization with 401 WEBHOOK_UNAUTHORIZED, and changes nothing', async () => {
      const m = await kakaoOnlyMember(bed);
      const form = new URLSearchParams({ app_id: APP_ID, user_id: m.kakaoId, referrer_type: 'UNLINK_FROM_APPS' });
      const post = (authorization?: string) =>
        fetch(unlinkUrl(bed), {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(authorization === undefined ? {} : { authorization }),
          },
          body: form.toString(),
        });
      for (const authorization of [
        undefined,
        '',
        'KakaoAK wrong-key',
        `Bearer ${ADMIN_KEY}`,
        `KakaoAK  ${ADMIN_KEY}`,
        `KakaoAK ${ADMIN_KEY.toUpperCase()}`,
        `KakaoAK ${ADMIN_KEY}x`,
        `KakaoAK ${ADMIN_KEY}, KakaoAK ${ADMIN_KEY}`,
        ADMIN_KEY,
      ]) {
        const res = await post(authorization);
        expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 });
        expect(((await res.json()) as { code: string }).code).toBe('WEBHOOK_UNAUTHORIZED');
      }
      const doubled = await rawPost(
        unlinkUrl(bed),
        {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: [`KakaoAK ${ADMIN_KEY}`, `KakaoAK ${ADMIN_KEY}`],
        },
        form.toString(),
      );
      expect(doubled).toBe(401);
      const wrongKey = await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: m.kakaoId, adminKey: 'nope' });
      expect(wrongKey.status).toBe(401);
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('active');
    });

    it('takes the KakaoAK scheme in any case (RFC 9110 11.1), the key itself exactly', async () => {
      const m = await kakaoOnlyMember(bed);
      const res = await fetch(
        `${unlinkUrl(bed)}?app_id=${APP_ID}&user_id=${m.kakaoId}&referrer_type=UNLINK_FROM_APPS`,
        {
          headers: { authorization: `kakaoak ${ADMIN_KEY}` },
        },
      );
      expect(res.status).toBe(200);
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('withdrawn');
    });

    it('answers 200 and changes nothing for another app id (with a warning), and for an unknown user', async () => {
      const m = await kakaoOnlyMember(bed);
      const foreign = await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: m.kakaoId, appId: '999' });
      expect(foreign.status).toBe(200);
      const unknown = await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: '7000000000000000001' });
      expect(unknown.status).toBe(200);
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('active');
      const ignored = await bed.t.db.query(`SELECT data FROM audit_events WHERE type = 'webhook.ignored'`);
      expect(ignored.rows.map((r) => r.data.appId)).toContain('999');
      const outcome = await bed.t.db.query(
        `SELECT outcome, kakao_user_id FROM webhook_inbox WHERE reason = 'UNLINK_FROM_APPS' ORDER BY id DESC LIMIT 1`,
      );
      expect(outcome.rows[0]).toEqual({ outcome: 'unknown_user', kakao_user_id: null });
    });

    // Audit: these were 400s. Kakao wants 200 for every authenticated call (KAKAO_API.md 7.1, API.md).
    it('answers 200 to an authenticated call that names no user, and records it as invalid', async () => {
      const invalidBefore = await bed.t.db.query(
        `SELECT count(*)::int AS n FROM webhook_inbox WHERE outcome = 'invalid'`,
      );
      const get = (query: string) => fetch(`${unlinkUrl(bed)}?${query}`, { headers: KAKAO_AK });
      const post = (type: string, body: string) =>
        fetch(unlinkUrl(bed), { method: 'POST', headers: { ...KAKAO_AK, 'content-type': type }, body });
      const answers = [
        await get(`app_id=${APP_ID}&user_id=abc&referrer_type=UNLINK_FROM_APPS`),
        await get(`app_id=${APP_ID}&user_id=400000000000000000031&referrer_type=UNLINK_FROM_APPS`),
        await get(`app_id=${APP_ID}&user_id=6000000000000000001&user_id=6000000000000000002`),
        await post('application/x-www-form-urlencoded', `app_id=${APP_ID}&user_id=1&user_id=2&referrer_type=X`),
        await post('application/json', '{"app_id": 1, "user_id": '),
        await post('text/plain', `user_id=6000000000000000001`),
        await post('application/json', '[]'),
      ];
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('');
      }
      const invalid = await bed.t.db.query(
        `SELECT count(*)::int AS n FROM webhook_inbox WHERE outcome = 'invalid' AND processed_at IS NOT NULL`,
      );
      expect(invalid.rows[0].n - invalidBefore.rows[0].n).toBe(answers.length);
      const audit = await bed.t.db.query(
        `SELECT data FROM audit_events WHERE type = 'webhook.ignored' AND data->>'outcome' = 'invalid' ORDER BY id DESC LIMIT 1`,
      );
      expect(audit.rows[0].data.problems).toMatch(/array|JSON/);
    });

    it('applies a call without app_id (Kakao’s own example has none) or without referrer_type', async () => {
      const a = await kakaoOnlyMember(bed);
      const b = await kakaoOnlyMember(bed);
      const noAppId = await fetch(`${unlinkUrl(bed)}?user_id=${a.kakaoId}&referrer_type=UNLINK_FROM_APPS`, {
        headers: KAKAO_AK,
      });
      const noReferrer = await fetch(unlinkUrl(bed), {
        method: 'POST',
        headers: { ...KAKAO_AK, 'content-type': 'application/x-www-form-urlencoded' },
        body: `app_id=${APP_ID}&user_id=${b.kakaoId}`,
      });
      expect([noAppId.status, noReferrer.status]).toEqual([200, 200]);
      await drained(bed);
      expect(await status(bed, a.memberId)).toBe('withdrawn');
      expect(await status(bed, b.memberId)).toBe('withdrawn');
      expect((await latestCall(bed, b.kakaoId)).reason).toBeNull();
    });

    it('reads ids written as JSON numbers with every digit (they exceed 2^53)', async () => {
      const m = await kakaoOnlyMember(bed);
      expect(BigInt(m.kakaoId)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
      const res = await fetch(unlinkUrl(bed), {
        method: 'POST',
        headers: { ...KAKAO_AK, 'content-type': 'application/json' },
        body: `{"app_id":${APP_ID},"user_id":${m.kakaoId},"referrer_type":"UNLINK_FROM_APPS"}`,
      });
      expect(res.status).toBe(200);
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('withdrawn');
    });

    it('checks the key before reading the body: without it, any body is 401 WEBHOOK_UNAUTHORIZED', async () => {
      for (const [type, body] of [
        ['application/json', '{"app_id": 1, "user_id": '],
        ['text/plain', 'user_id=1'],
        ['application/octet-stream', 'x'],
        ['application/x-www-form-urlencoded', 'user_id=1'],
      ]) {
        for (const authorization of [undefined, 'KakaoAK wrong-key']) {
          const res = await fetch(unlinkUrl(bed), {
            method: 'POST',
            headers: { 'content-type': type, ...(authorization ? { authorization } : {}) },
            body,
          });
          expect({ type, status: res.status }).toEqual({ type, status: 401 });
          const problem = (await res.json()) as { code: string; requestId: string };
          expect(problem).toMatchObject({ statusCode: 401, code: 'WEBHOOK_UNAUTHORIZED' });
          expect(problem.requestId).toEqual(expect.any(String));
        }
      }
      // Other routes still refuse a body type they do not read, in the error shape.
      const other = await fetch(`${bed.t.url}/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/x.kakao-webhook-raw' },
        body: 'x',
      });
      expect(other.status).toBe(415);
    });

    // Audit: the dedupe key was app:user:reason:10-minute bucket, so this second unlink was answered 200 and
    // dropped as a duplicate, leaving the new member active and signed in.
    it('a second genuine unlink within minutes (after a new sign-up) takes effect too', async () => {
      const first = await kakaoOnlyMember(bed);
      expect((await bed.kakao.unlinkUser(first.kakaoId, { webhook: { url: unlinkUrl(bed) } }))?.status).toBe(200);
      await drained(bed);
      expect(await status(bed, first.memberId)).toBe('withdrawn');
      const again = await hybridLogin(bed, first.kakaoId);
      expect(again.body.result).toBe('SIGNED_UP');
      const second = again.body.member.id as string;
      expect((await bed.kakao.unlinkUser(first.kakaoId, { webhook: { url: unlinkUrl(bed) } }))?.status).toBe(200);
      await drained(bed);
      expect(await status(bed, second)).toBe('withdrawn');
      expect(await hasKakao(bed, second)).toBe(false);
      expect((await call(bed.t, 'GET', '/members/me', { token: again.body.tokens.accessToken })).status).toBe(401);
    });

    it('a call processed late (or again) does not cut a link made after it was received', async () => {
      const first = await kakaoOnlyMember(bed);
      expect((await bed.kakao.unlinkUser(first.kakaoId, { webhook: { url: unlinkUrl(bed) } }))?.status).toBe(200);
      await drained(bed);
      const old = await latestCall(bed, first.kakaoId);
      expect(old.outcome).toBe('withdrawn');
      const again = await hybridLogin(bed, first.kakaoId);
      expect(again.body.result).toBe('SIGNED_UP');
      // The same call back in the inbox, unprocessed, as if its job ran only now.
      await bed.t.db.query(
        `UPDATE webhook_inbox SET processed_at = NULL, outcome = NULL, kakao_user_id = $2 WHERE id = $1`,
        [old.id, first.kakaoId],
      );
      await bed.t.app.get(KakaoWebhooksService).process(old.id);
      const member = again.body.member.id as string;
      expect(await status(bed, member)).toBe('active');
      expect(await hasKakao(bed, member)).toBe(true);
      expect((await call(bed.t, 'GET', '/members/me', { token: again.body.tokens.accessToken })).status).toBe(200);
      const row = await bed.t.db.query(`SELECT outcome, kakao_user_id FROM webhook_inbox WHERE id = $1`, [old.id]);
      expect(row.rows[0]).toEqual({ outcome: 'link_newer_than_call', kakao_user_id: null });
    });

    // Audit: Kakao Sync consents outlived the unlink of a member who keeps the account.
    it('a member who keeps the account loses the optional consents given through Kakao Sync, history kept', async () => {
      const m = await memberWithPassword(bed);
      const before = await call(bed.t, 'GET', '/members/me/terms', { token: m.accessToken });
      const viaKakao = (before.body.terms as Array<{ tag: string; agreed: boolean; source: string }>)
        .filter((t) => t.agreed && t.source === 'kakao_sync')
        .map((t) => t.tag);
      expect(viaKakao).toEqual(expect.arrayContaining(['service_2024', 'privacy_2024', 'marketing']));
      expect((await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: m.kakaoId })).status).toBe(200);
      await drained(bed);
      const login = await call(bed.t, 'POST', '/auth/login', { body: { email: m.email, password: m.password } });
      expect(login.body.result).toBe('LOGGED_IN');
      const view = (await call(bed.t, 'GET', '/members/me/terms', { token: login.body.tokens.accessToken })).body as {
        terms: Array<{ tag: string }>;
        history: Array<{ tag: string; agreed: boolean; source: string }>;
      };
      const termOf = (tag: string) => view.terms.find((t) => t.tag === tag);
      // Required terms stand; the optional consents lapse with the Kakao link, and the history keeps both steps.
      expect(termOf('service_2024')).toMatchObject({ agreed: true, source: 'kakao_sync' });
      expect(termOf('privacy_2024')).toMatchObject({ agreed: true, source: 'kakao_sync' });
      const optional = viaKakao.filter((t) => !t.endsWith('_2024'));
      expect(optional).toContain('marketing');
      for (const tag of optional) {
        expect(termOf(tag)).toMatchObject({ agreed: false, source: 'kakao_sync', agreedAt: null });
        const entries = view.history.filter((h) => h.tag === tag);
        expect(entries.map((h) => [h.agreed, h.source])).toEqual([
          [true, 'kakao_sync'],
          [false, 'kakao_sync'],
        ]);
      }
    });

    it('a HEAD with the key answers 200 and unlinks nobody (HEAD is safe)', async () => {
      const m = await kakaoOnlyMember(bed);
      const res = await fetch(
        `${unlinkUrl(bed)}?app_id=${APP_ID}&user_id=${m.kakaoId}&referrer_type=UNLINK_FROM_APPS`,
        {
          method: 'HEAD',
          headers: { authorization: `KakaoAK ${ADMIN_KEY}` },
        },
      );
      expect(res.status).toBe(200);
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('active');
      expect(await hasKakao(bed, m.memberId)).toBe(true);
    });

    it('duplicate and concurrent deliveries have one effect', async () => {
      const m = await kakaoOnlyMember(bed);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: m.kakaoId, method: i % 2 ? 'GET' : 'POST' }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      await drained(bed);
      const rows = await bed.t.db.query(
        `SELECT count(*)::int AS n FROM audit_events WHERE type = 'member.withdrawn' AND member_id = $1`,
        [m.memberId],
      );
      expect(rows.rows[0].n).toBe(1);
      const inbox = await bed.t.db.query(
        `SELECT count(*)::int AS n FROM webhook_inbox WHERE outcome = 'withdrawn' AND processed_at > now() - interval '1 minute'`,
      );
      expect(inbox.rows[0].n).toBeGreaterThanOrEqual(1);
    });

    it('answers well under 3 s even when the database is slow, and still applies the call', async () => {
      const m = await kakaoOnlyMember(bed);
      const blocker: Client = await connect(bed.t.databaseUrl);
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE webhook_inbox IN EXCLUSIVE MODE');
        const res = await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: m.kakaoId });
        expect(res.status).toBe(200);
        expect(res.durationMs).toBeLessThan(3_000);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        await blocker.query('COMMIT');
      } finally {
        await blocker.end();
      }
      // The write that waited for the lock commits, and its job runs.
      for (let i = 0; i < 100 && (await status(bed, m.memberId)) !== 'withdrawn'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await status(bed, m.memberId)).toBe('withdrawn');
    });

    it('a burst of calls stuck on the database holds six of the ten request connections, not all', async () => {
      const reader = await signup(bed.t);
      const blocker: Client = await connect(bed.t.databaseUrl);
      const userIds = Array.from({ length: 12 }, (_, i) => `71${Date.now()}${String(i).padStart(2, '0')}`);
      let released = false;
      const release = async () => {
        released = true;
        await blocker.query('COMMIT').catch(() => undefined);
      };
      let calls: Promise<{ status: number }>[] = [];
      // Without the limit GET /members/me below would wait for this, and find `released` set.
      const safety = setTimeout(() => void release(), 5_000);
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE webhook_inbox IN EXCLUSIVE MODE');
        calls = userIds.map((userId) => bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId }));
        const stuck = async () =>
          (
            await bed.t.db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%webhook_inbox%'`,
            )
          ).rows[0].n;
        for (let i = 0; i < 50 && (await stuck()) < 6; i++) await new Promise((r) => setTimeout(r, 50));
        expect(await stuck()).toBe(6);
        // The six held back count as requests waiting for the database: jobs give way meanwhile.
        expect(bed.t.app.get(InstanceLoad).reading().waitingForDatabase).toBe(6);
        // The other requests still get connections while the calls wait.
        const me = await call(bed.t, 'GET', '/members/me', { token: reader.accessToken });
        expect(me.status).toBe(200);
        expect(released).toBe(false);
        expect(await stuck()).toBe(6);
      } finally {
        clearTimeout(safety);
        await release();
        await blocker.end();
      }
      // Answered (those waiting past the deadline before their write committed), and every one stored.
      expect((await Promise.all(calls)).map((r) => r.status)).toEqual(Array(12).fill(200));
      const hashes = userIds.map((id) => bed.t.app.get(KakaoUnlinks).userHash(id));
      const stored = async () =>
        (
          await bed.t.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM webhook_inbox WHERE kakao_user_hash = ANY($1)`,
            [hashes],
          )
        ).rows[0].n;
      for (let i = 0; i < 100 && (await stored()) < 12; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await stored()).toBe(12);
      await drained(bed);
    });

    it('a login whose Kakao authentication is older than the unlink does not re-create the link', async () => {
      const m = await kakaoOnlyMember(bed);
      // The native app authenticated a minute ago; Kakao's unlink webhook arrives before it posts its tokens.
      const tokens = await bed.kakao.issueTokensFor(m.kakaoId, { authTime: Math.floor(Date.now() / 1000) - 60 });
      expect((await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: m.kakaoId })).status).toBe(200);
      await drained(bed);
      const late = await call(bed.t, 'POST', '/auth/kakao/native', {
        body: { accessToken: tokens.access_token, idToken: tokens.id_token },
      });
      expect(late.status).toBe(403);
      expect(late.body.code).toBe('KAKAO_ACCESS_DENIED');
      const identity = await bed.t.db.query(`SELECT 1 FROM member_identities WHERE provider_user_id = $1`, [m.kakaoId]);
      expect(identity.rowCount).toBe(0);
    });

    it('counts calls by type and result and shows the backlog in /metrics', async () => {
      const metrics = await (await fetch(`${bed.t.url}/metrics`)).text();
      expect(metrics).toMatch(/kakao_webhook_calls_total\{type="unlink",result="accepted"\} \d+/);
      expect(metrics).toMatch(/kakao_webhook_calls_total\{type="unlink",result="wrong_app"\} 1/);
      expect(metrics).toMatch(/kakao_webhook_inbox_backlog \d+/);
      expect(metrics).toMatch(/kakao_webhook_events_processed_total\{event="unlink",outcome="withdrawn"\} \d+/);
    });
  });

  describe('account status webhook (Security Event Tokens)', () => {
    it('user-unlinked is handled like the unlink webhook', async () => {
      const m = await kakaoOnlyMember(bed);
      const res = await bed.kakao.sendAccountStatusEvent(eventsUrl(bed), {
        userId: m.kakaoId,
        event: 'user-unlinked',
        reason: 'UNLINK_FROM_APPS',
      });
      expect(res.status).toBe(202);
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('withdrawn');
    });

    it.each([
      'tokens-revoked',
      'account-disabled',
      'sessions-revoked',
      'account-credential-change-required',
      'credential-compromise',
    ])('%s ends every session and drops the stored Kakao tokens; the member stays', async (event) => {
      const m = await kakaoOnlyMember(bed);
      expect((await bed.kakao.sendAccountStatusEvent(eventsUrl(bed), { userId: m.kakaoId, event })).status).toBe(202);
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('active');
      expect((await call(bed.t, 'GET', '/members/me', { token: m.tokens.accessToken })).status).toBe(401);
      const stored = await bed.t.db.query(
        `SELECT count(*)::int AS n FROM kakao_tokens t JOIN member_identities i ON i.id = t.identity_id WHERE i.member_id = $1`,
        [m.memberId],
      );
      expect(stored.rows[0].n).toBe(0);
      // A new Kakao login works as before.
      expect((await hybridLogin(bed, m.kakaoId)).body.result).toBe('LOGGED_IN');
    });

    // Audit: both were only recorded.
    it('account-purged (the Kakao account is gone) is handled like the unlink webhook', async () => {
      const kakaoOnly = await kakaoOnlyMember(bed);
      const withPassword = await memberWithPassword(bed);
      for (const m of [kakaoOnly, withPassword]) {
        const res = await bed.kakao.sendAccountStatusEvent(eventsUrl(bed), {
          userId: m.kakaoId,
          event: 'account-purged',
        });
        expect(res.status).toBe(202);
      }
      await drained(bed);
      expect(await status(bed, kakaoOnly.memberId)).toBe('withdrawn');
      expect(await status(bed, withPassword.memberId)).toBe('active');
      expect(await hasKakao(bed, withPassword.memberId)).toBe(false);
      expect((await call(bed.t, 'GET', '/members/me', { token: withPassword.accessToken })).status).toBe(401);
    });

    it('token-revoked drops the stored Kakao token; the member and their sessions stay', async () => {
      const m = await kakaoOnlyMember(bed);
      expect(await storedKakaoTokens(bed, m.memberId)).toBeGreaterThan(0);
      const res = await bed.kakao.sendAccountStatusEvent(eventsUrl(bed), { userId: m.kakaoId, event: 'token-revoked' });
      expect(res.status).toBe(202);
      await drained(bed);
      expect(await storedKakaoTokens(bed, m.memberId)).toBe(0);
      expect(await status(bed, m.memberId)).toBe('active');
      expect(await hasKakao(bed, m.memberId)).toBe(true);
      expect((await call(bed.t, 'GET', '/members/me', { token: m.tokens.accessToken })).status).toBe(200);
    });

    // Audit: text/plain and application/jwt got 415 in our error shape instead of an RFC 8935 answer.
    it('reads the SET whatever its Content-Type', async () => {
      for (const type of ['text/plain', 'application/jwt', 'application/octet-stream']) {
        const m = await kakaoOnlyMember(bed);
        // The emulator signs; its own delivery goes nowhere (a closed port) and the token is sent from here.
        const { token } = await bed.kakao.sendAccountStatusEvent('http://127.0.0.1:9/', {
          userId: m.kakaoId,
          event: 'sessions-revoked',
        });
        const res = await fetch(eventsUrl(bed), { method: 'POST', headers: { 'content-type': type }, body: token });
        expect({ type, status: res.status }).toEqual({ type, status: 202 });
        await drained(bed);
        expect((await call(bed.t, 'GET', '/members/me', { token: m.tokens.accessToken })).status).toBe(401);
      }
      const garbage = await fetch(eventsUrl(bed), {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'not a token',
      });
      expect(garbage.status).toBe(400);
      expect(await garbage.json()).toEqual({ err: 'invalid_request', description: expect.any(String) });
    });

    // Audit: a signed token with toe 1e20 failed the inbox write (timestamp out of range) with a 500.
    it('refuses a SET whose time of event is out of range with 400 invalid_request', async () => {
      const m = await kakaoOnlyMember(bed);
      for (const toe of [1e20, -5]) {
        const res = await bed.kakao.sendAccountStatusEvent(eventsUrl(bed), { userId: m.kakaoId, toe });
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body)).toEqual({ err: 'invalid_request', description: expect.stringMatching(/toe/) });
      }
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('active');
    });

    it('records other events, and accepts a jti once', async () => {
      const m = await kakaoOnlyMember(bed);
      const first = await bed.kakao.sendAccountStatusEvent(eventsUrl(bed), {
        userId: m.kakaoId,
        event: 'user-profile-changed',
        jti: `jti-${m.kakaoId}`,
      });
      const again = await bed.kakao.sendAccountStatusEvent(eventsUrl(bed), {
        userId: m.kakaoId,
        event: 'user-profile-changed',
        jti: `jti-${m.kakaoId}`,
      });
      expect([first.status, again.status]).toEqual([202, 202]);
      await drained(bed);
      const rows = await bed.t.db.query(`SELECT outcome FROM webhook_inbox WHERE dedupe_key LIKE $1`, [
        `set:jti-${m.kakaoId}:%`,
      ]);
      expect(rows.rows).toEqual([{ outcome: 'profile_refresh_at_next_login' }]);
      expect((await call(bed.t, 'GET', '/members/me', { token: m.tokens.accessToken })).status).toBe(200);
    });

    it('refuses bad SETs with 400 and RFC 8935 error codes', async () => {
      const m = await kakaoOnlyMember(bed);
      const wrongAud = await bed.kakao.sendAccountStatusEvent(eventsUrl(bed), { userId: m.kakaoId, audience: 'x' });
      expect(wrongAud.status).toBe(400);
      expect(JSON.parse(wrongAud.body)).toEqual({ err: 'invalid_audience', description: expect.any(String) });
      const wrongIss = await bed.kakao.sendAccountStatusEvent(eventsUrl(bed), {
        userId: m.kakaoId,
        issuer: 'https://evil.example',
      });
      expect(JSON.parse(wrongIss.body).err).toBe('invalid_issuer');

      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT({
        events: { 'https://schemas.openid.net/secevent/oauth/event-type/user-unlinked': {} },
      })
        .setProtectedHeader({ alg: 'RS256', typ: 'secevent+jwt', kid: 'not-kakaos' })
        .setIssuer(bed.kakao.url)
        .setAudience('test-rest-api-key')
        .setSubject(m.kakaoId)
        .setIssuedAt()
        .setJti('forged')
        .sign(privateKey);
      const post = (body: string, type = 'application/secevent+jwt') =>
        fetch(eventsUrl(bed), { method: 'POST', headers: { 'content-type': type }, body });
      const forgedRes = await post(forged);
      expect(forgedRes.status).toBe(400);
      expect(((await forgedRes.json()) as { err: string }).err).toBe('invalid_key');
      const garbage = await post('not.a.jwt');
      expect(garbage.status).toBe(400);
      expect(((await garbage.json()) as { err: string }).err).toBe('invalid_request');
      const asJson = await post(JSON.stringify({ token: forged }), 'application/json');
      expect(asJson.status).toBe(400);
      expect(((await asJson.json()) as { err: string }).err).toBe('invalid_request');
      await drained(bed);
      expect(await status(bed, m.memberId)).toBe('active');
    });
  });

  describe('durability', () => {
    it('two instances on one database: the same calls delivered to both have one effect each', async () => {
      const other = await startTestApp({ databaseUrl: bed.t.databaseUrl, env: bed.env });
      try {
        const members = await Promise.all([kakaoOnlyMember(bed), kakaoOnlyMember(bed), kakaoOnlyMember(bed)]);
        const urls = [unlinkUrl(bed), `${other.url}/webhooks/kakao/unlink`];
        const sent = await Promise.all(
          members.flatMap((m) => urls.map((url) => bed.kakao.sendUnlinkWebhook(url, { userId: m.kakaoId }))),
        );
        expect(sent.map((r) => r.status)).toEqual(Array(6).fill(200));
        await drained(bed);
        await other.app.get(QueueService).drained(WEBHOOK_QUEUE, 20_000);
        for (const m of members) {
          expect(await status(bed, m.memberId)).toBe('withdrawn');
          const effects = await bed.t.db.query(
            `SELECT count(*)::int AS n FROM audit_events WHERE type = 'member.withdrawn' AND member_id = $1`,
            [m.memberId],
          );
          expect(effects.rows[0].n).toBe(1);
        }
      } finally {
        await other.close();
      }
    });

    it('calls received but not processed before a restart are processed after it', async () => {
      const a = await kakaoOnlyMember(bed);
      const b = await kakaoOnlyMember(bed);
      const { databaseUrl } = bed.t;
      // A service whose worker would only poll in a minute: the calls stay unprocessed.
      await bed.t.close();
      bed.t = await startTestApp({ databaseUrl, env: bed.env, queue: { pollingIntervalSeconds: 60 } });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: a.kakaoId })).status).toBe(200);
      expect((await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: b.kakaoId })).status).toBe(200);
      expect(await status(bed, a.memberId)).toBe('active');
      await bed.t.close();
      // One call's job is lost as well (a crash between its retries): the inbox row alone must be enough.
      const db = await connect(databaseUrl);
      try {
        const rows = await db.query(`SELECT id FROM webhook_inbox WHERE processed_at IS NULL ORDER BY id`);
        expect(rows.rowCount).toBe(2);
        await db.query(`DELETE FROM pgboss.job WHERE name = $1 AND data->>'inboxId' = $2`, [
          WEBHOOK_QUEUE,
          rows.rows[1].id,
        ]);
      } finally {
        await db.end();
      }
      bed.t = await startTestApp({ databaseUrl, env: bed.env });
      for (let i = 0; i < 100 && (await status(bed, b.memberId)) !== 'withdrawn'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await drained(bed);
      expect(await status(bed, a.memberId)).toBe('withdrawn');
      expect(await status(bed, b.memberId)).toBe('withdrawn');
    });
  });
});

describe('UNLINK_WEBHOOK_POLICY=withdraw-all', () => {
  let bed: KakaoTestBed;
  beforeAll(async () => {
    bed = await startWithKakao({ env: { UNLINK_WEBHOOK_POLICY: 'withdraw-all' } });
  });
  afterAll(async () => {
    await bed.close();
  });

  it('withdraws a member even when they have a password', async () => {
    const m = await memberWithPassword(bed);
    expect((await bed.kakao.sendUnlinkWebhook(unlinkUrl(bed), { userId: m.kakaoId })).status).toBe(200);
    await drained(bed);
    expect(await status(bed, m.memberId)).toBe('withdrawn');
    const login = await call(bed.t, 'POST', '/auth/login', { body: { email: m.email, password: m.password } });
    expect(login.status).toBe(401);
  });
});
