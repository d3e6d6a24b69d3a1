import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { QueueService } from '../../src/queue/queue.service';
import { WEBHOOK_QUEUE } from '../../src/webhooks/kakao-webhooks.service';
import { connect } from '../support/database';
import { call, signup } from '../support/http';
import { hybridCode, HYBRID_REDIRECT, KakaoTestBed, startWithKakao } from '../support/kakao';

/**
 * Each race runs this many times: 100 in the extended run (`npm run test:extended`), a few in `npm test`.
 * One lucky interleaving proves little; many fresh ones, each held at the point where the requests collide,
 * make a wrong outcome show.
 */
export function repetitions(bounded = 2): number {
  return process.env.TEST_EXTENDED === '1' ? 100 : bounded;
}

/** A per-test timeout that grows with the repetitions (a repetition takes well under a second). */
const timeoutFor = (reps: number, perRepetitionMs = 2_000) => 30_000 + reps * perRepetitionMs;

type Answer = Awaited<ReturnType<typeof call>>;

describe('races: each has exactly its documented outcome', () => {
  let bed: KakaoTestBed;
  let seq = 0;

  beforeAll(async () => {
    bed = await startWithKakao({ env: { KAKAO_HTTP_TIMEOUT_MS: '2000' } });
  });
  afterAll(async () => {
    bed.kakao.clearFaults();
    await bed.close();
  });

  /** A Kakao account new to the service; name and email unique, so no matching candidate gets in the way. */
  function newKakaoUser(): string {
    seq += 1;
    const id = `7${String(Date.now() % 1e9).padStart(9, '0')}${String(seq).padStart(8, '0')}`;
    const tag = randomBytes(4).toString('hex');
    bed.kakao.addPersona({
      id,
      nickname: `race${seq}`,
      name: `경쟁${tag}`,
      email: `race.${tag}@kakao.example`,
      isEmailValid: true,
      isEmailVerified: true,
    });
    return id;
  }

  const count = async (sql: string, params: unknown[] = []) =>
    (await bed.t.db.query(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0].n as number;

  const codeLogin = (code: string) =>
    call(bed.t, 'POST', '/auth/kakao/code', { body: { code, redirectUri: HYBRID_REDIRECT } });

  /** Backends of this database waiting for a lock (the requests held at a gate). */
  const waitingOnLocks = async () =>
    (
      await bed.t.db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      )
    ).rows[0].n as number;

  async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Holds `lockSql` in a transaction of its own while `fire` sends its requests, until `waiting` backends
   * queue behind it; then lets them all go at once. On two shared cores, requests sent together otherwise
   * reach the database one after the other and never actually collide.
   */
  async function gated<T>(lockSql: string, waiting: number, fire: () => Promise<T>): Promise<T> {
    const gate: Client = await connect(bed.t.databaseUrl);
    let pending: Promise<T> | undefined;
    try {
      await gate.query('BEGIN');
      await gate.query(lockSql);
      pending = fire();
      await waitUntil(async () => (await waitingOnLocks()) >= waiting, `${waiting} requests wait at the gate`);
      await gate.query('COMMIT');
    } finally {
      await gate.end();
    }
    return pending;
  }

  const drained = () => bed.t.app.get(QueueService).drained(WEBHOOK_QUEUE, 20_000);

  const reps = repetitions();

  it(
    'concurrent first logins of one Kakao account: one SIGNED_UP, one LOGGED_IN, one member, one identity',
    async () => {
      for (let i = 0; i < reps; i++) {
        const kakaoId = newKakaoUser();
        const [codeA, codeB] = await Promise.all([hybridCode(bed, kakaoId), hybridCode(bed, kakaoId)]);
        const members = await count('members');
        // The login transaction reads kakao_unlinks first: both logins wait there, then decide together.
        const results = await gated('LOCK TABLE kakao_unlinks IN ACCESS EXCLUSIVE MODE', 2, () =>
          Promise.all([codeLogin(codeA), codeLogin(codeB)]),
        );
        expect(results.map((r) => r.status)).toEqual([200, 200]);
        expect(results.map((r) => r.body.result).sort()).toEqual(['LOGGED_IN', 'SIGNED_UP']);
        expect(results[0].body.member.id).toBe(results[1].body.member.id);
        expect(await count('members')).toBe(members + 1);
        expect(await count(`member_identities WHERE provider_user_id = $1`, [kakaoId])).toBe(1);
        expect(
          await count(`kakao_tokens t JOIN member_identities i ON i.id = t.identity_id WHERE i.provider_user_id = $1`, [
            kakaoId,
          ]),
        ).toBe(1);
        // Both logins hold a working session of that one member.
        for (const r of results) {
          const me = await call(bed.t, 'GET', '/members/me', { token: r.body.tokens.accessToken });
          expect(me.status).toBe(200);
          expect(me.body.id).toBe(results[0].body.member.id);
        }
        expect(await count(`sessions WHERE member_id = $1`, [results[0].body.member.id])).toBe(2);
      }
    },
    timeoutFor(reps),
  );

  it(
    'identical callbacks at once (same state and code): one LoginOutcome, the others INVALID_STATE, one session',
    async () => {
      for (let i = 0; i < reps; i++) {
        const kakaoId = newKakaoUser();
        const start = await fetch(`${bed.t.url}/auth/kakao/login`, { redirect: 'manual' });
        const cookie = start.headers.get('set-cookie')!.split(';')[0];
        const authorize = new URL(start.headers.get('location')!);
        authorize.searchParams.set('emulator_user', kakaoId);
        const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
        const sessions = await count('sessions');
        const tokenCalls = bed.kakao.callCount('POST', '/oauth/token');
        // The state is spent by one UPDATE: all three wait for the row lock, then exactly one finds it unspent.
        const results = await gated('LOCK TABLE login_transactions IN EXCLUSIVE MODE', 3, () =>
          Promise.all(
            Array.from({ length: 3 }, () =>
              call(bed.t, 'GET', `/auth/kakao/callback${back.search}`, { headers: { cookie } }),
            ),
          ),
        );
        const ok = results.filter((r) => r.status === 200);
        expect(ok).toHaveLength(1);
        expect(ok[0].body.result).toBe('SIGNED_UP');
        const refused = results.filter((r) => r.status !== 200);
        expect(refused.map((r) => [r.status, r.body.code])).toEqual([
          [400, 'INVALID_STATE'],
          [400, 'INVALID_STATE'],
        ]);
        // The losers are refused before Kakao is called: the code is exchanged once.
        expect(bed.kakao.callCount('POST', '/oauth/token')).toBe(tokenCalls + 1);
        expect(await count('sessions')).toBe(sessions + 1);
        expect(await count(`member_identities WHERE provider_user_id = $1`, [kakaoId])).toBe(1);
      }
    },
    timeoutFor(reps),
  );

  it(
    'one hybrid code posted twice at once: one LoginOutcome, the other KAKAO_TOKEN_EXCHANGE_FAILED, one session',
    async () => {
      for (let i = 0; i < reps; i++) {
        const kakaoId = newKakaoUser();
        const code = await hybridCode(bed, kakaoId);
        const sessions = await count('sessions');
        const members = await count('members');
        // Kakao decides: an authorization code is single use (KOE320 for the second presentation).
        const results = await Promise.all([codeLogin(code), codeLogin(code)]);
        const ok = results.filter((r) => r.status === 200);
        expect(ok).toHaveLength(1);
        expect(ok[0].body.result).toBe('SIGNED_UP');
        const refused = results.find((r) => r.status !== 200)!;
        expect([refused.status, refused.body.code]).toEqual([400, 'KAKAO_TOKEN_EXCHANGE_FAILED']);
        expect(refused.body).toEqual(expect.objectContaining({ statusCode: 400, requestId: expect.any(String) }));
        expect(await count('sessions')).toBe(sessions + 1);
        expect(await count('members')).toBe(members + 1);
      }
    },
    timeoutFor(reps),
  );

  it(
    'concurrent refreshes of one refresh token: one new pair, the others REFRESH_TOKEN_INVALID, the successor works',
    async () => {
      for (let i = 0; i < reps; i++) {
        const member = await signup(bed.t);
        const refresh = (refreshToken: string) => call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken } });
        // All four reach the token's row before any of them has rotated it: a race, not a replay.
        const results = await gated(
          `SELECT 1 FROM refresh_tokens WHERE token_hash = sha256('${member.refreshToken}'::bytea) FOR UPDATE`,
          4,
          () => Promise.all(Array.from({ length: 4 }, () => refresh(member.refreshToken))),
        );
        const ok = results.filter((r) => r.status === 200);
        expect(ok).toHaveLength(1);
        expect(ok[0].body).toEqual(
          expect.objectContaining({
            tokenType: 'Bearer',
            accessToken: expect.any(String),
            refreshToken: expect.any(String),
          }),
        );
        expect(results.filter((r) => r.status !== 200).map((r) => [r.status, r.body.code])).toEqual(
          Array(3).fill([401, 'REFRESH_TOKEN_INVALID']),
        );
        // Losing the race did not count as reuse: the family lives on through the one successor.
        const sessionId = (
          await bed.t.db.query(`SELECT session_id FROM refresh_tokens WHERE token_hash = sha256($1::bytea)`, [
            Buffer.from(member.refreshToken),
          ])
        ).rows[0].session_id as string;
        expect(await count(`refresh_tokens WHERE session_id = $1`, [sessionId])).toBe(2);
        expect(await count(`sessions WHERE id = $1 AND revoked_at IS NULL`, [sessionId])).toBe(1);
        const next = await refresh(ok[0].body.refreshToken);
        expect(next.status).toBe(200);
        expect((await call(bed.t, 'GET', '/members/me', { token: next.body.accessToken })).status).toBe(200);
        // And the spent token presented afterwards is a replay: the family is revoked.
        expect((await refresh(member.refreshToken)).body.code).toBe('REFRESH_TOKEN_REUSED');
        expect((await refresh(next.body.refreshToken)).status).toBe(401);
      }
    },
    timeoutFor(reps),
  );

  it(
    'one Kakao account linked by two members at once: one link, the other KAKAO_ALREADY_LINKED',
    async () => {
      for (let i = 0; i < reps; i++) {
        const kakaoId = newKakaoUser();
        const [a, b] = await Promise.all([signup(bed.t), signup(bed.t)]);
        const [codeA, codeB] = await Promise.all([hybridCode(bed, kakaoId), hybridCode(bed, kakaoId)]);
        const link = (token: string, code: string) =>
          call(bed.t, 'POST', '/members/me/kakao', { token, body: { code, redirectUri: HYBRID_REDIRECT } });
        // Like a login, the link transaction reads kakao_unlinks first: both wait there, then insert together.
        const results = await gated('LOCK TABLE kakao_unlinks IN ACCESS EXCLUSIVE MODE', 2, () =>
          Promise.all([link(a.accessToken, codeA), link(b.accessToken, codeB)]),
        );
        expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
        const winner = results.find((r) => r.status === 200)!;
        const loser = results.find((r) => r.status === 409)!;
        expect(loser.body.code).toBe('KAKAO_ALREADY_LINKED');
        const owner = (
          await bed.t.db.query(`SELECT member_id FROM member_identities WHERE provider_user_id = $1`, [kakaoId])
        ).rows;
        expect(owner).toEqual([{ member_id: winner.body.id }]);
        expect(winner.body.identities).toEqual([
          expect.objectContaining({ provider: 'kakao', providerUserId: kakaoId }),
        ]);
        // The loser is left as it was: no Kakao link, no Kakao-derived profile.
        const loserId = winner.body.id === a.outcome.member.id ? b.outcome.member.id : a.outcome.member.id;
        const loserMe = await call(bed.t, 'GET', '/members/me', {
          token: loserId === a.outcome.member.id ? a.accessToken : b.accessToken,
        });
        expect(loserMe.body.identities).toEqual([]);
        expect(loserMe.body.profile.nickname ?? null).toBeNull();
      }
    },
    timeoutFor(reps),
  );

  describe('an unlink webhook racing a Kakao login of the same person', () => {
    /**
     * What may come of it (src/kakao-auth/kakao-login.service.ts, src/webhooks, src/kakao/kakao-unlinks.ts):
     * - Kakao refuses the login: the code died with the unlink (KAKAO_TOKEN_EXCHANGE_FAILED), or the token
     *   did between exchange and profile read (KAKAO_UNAVAILABLE, Kakao's -401);
     * - the service refuses it: the unlink mark is newer than the login's Kakao authentication
     *   (KAKAO_ACCESS_DENIED);
     * - LOGGED_IN as the linked member, before the webhook is applied: the member is then withdrawn and the
     *   login's tokens die with it;
     * - SIGNED_UP as a new member: only when the webhook was applied first and the login's Kakao
     *   authentication falls in the unlink's own second, which counts as after it (whole-second auth_time).
     * Whatever happened, afterwards: the old member is a tombstone with nothing of Kakao on it, no identity
     * points at it, none of its tokens work, and at most one identity of the Kakao account exists (the new
     * member's, who is active).
     */
    async function settle(kakaoId: string, oldMemberId: string, login: Answer) {
      await drained();
      const allowed: Array<[number, string]> = [
        [200, 'LOGGED_IN'],
        [200, 'SIGNED_UP'],
        [400, 'KAKAO_TOKEN_EXCHANGE_FAILED'],
        [502, 'KAKAO_UNAVAILABLE'],
        [403, 'KAKAO_ACCESS_DENIED'],
      ];
      expect(allowed).toContainEqual([login.status, login.body.result ?? login.body.code]);

      const old = (
        await bed.t.db.query(`SELECT status, email, name, profile FROM members WHERE id = $1`, [oldMemberId])
      ).rows[0];
      expect(old).toEqual({ status: 'withdrawn', email: null, name: null, profile: {} });
      expect(await count(`member_identities WHERE member_id = $1`, [oldMemberId])).toBe(0);

      const identities = (
        await bed.t.db.query(
          `SELECT i.member_id, m.status FROM member_identities i JOIN members m ON m.id = i.member_id
           WHERE i.provider_user_id = $1`,
          [kakaoId],
        )
      ).rows;
      if (login.status === 200 && login.body.result === 'SIGNED_UP') {
        expect(login.body.member.id).not.toBe(oldMemberId);
        expect(identities).toEqual([{ member_id: login.body.member.id, status: 'active' }]);
        const me = await call(bed.t, 'GET', '/members/me', { token: login.body.tokens.accessToken });
        expect(me.status).toBe(200);
      } else {
        expect(identities).toEqual([]);
      }
      if (login.status === 200 && login.body.result === 'LOGGED_IN') {
        expect(login.body.member.id).toBe(oldMemberId);
        const me = await call(bed.t, 'GET', '/members/me', { token: login.body.tokens.accessToken });
        expect(me.status).toBe(401);
        const refreshed = await call(bed.t, 'POST', '/auth/refresh', {
          body: { refreshToken: login.body.tokens.refreshToken },
        });
        expect(refreshed.status).toBe(401);
      }
    }

    /** A member who can only log in with Kakao, and a fresh code of that Kakao account. */
    async function kakaoOnlyMember() {
      const kakaoId = newKakaoUser();
      const first = await codeLogin(await hybridCode(bed, kakaoId));
      expect(first.body.result).toBe('SIGNED_UP');
      return { kakaoId, memberId: first.body.member.id as string, tokens: first.body.tokens };
    }

    const unlinkAtKakao = (kakaoId: string) =>
      bed.kakao.unlinkUser(kakaoId, { webhook: { url: `${bed.t.url}/webhooks/kakao/unlink` } });

    it(
      'sent together: one of the consistent end states, never a half-unlinked member',
      async () => {
        for (let i = 0; i < reps; i++) {
          const m = await kakaoOnlyMember();
          const code = await hybridCode(bed, m.kakaoId);
          // The webhook leaves a little before, with, or a little after the login, to vary the interleaving.
          const skewMs = i % 3 === 0 ? 0 : Math.floor(Math.random() * 40);
          const [login, sent] = await Promise.all([
            codeLogin(code),
            new Promise((resolve) => setTimeout(resolve, skewMs)).then(() => unlinkAtKakao(m.kakaoId)),
          ]);
          expect(sent?.status).toBe(200);
          await settle(m.kakaoId, m.memberId, login);
          // The member's earlier session ended with the unlink.
          expect((await call(bed.t, 'GET', '/members/me', { token: m.tokens.accessToken })).status).toBe(401);
        }
      },
      timeoutFor(reps, 3_000),
    );

    it(
      'the webhook applied while the login is between reading the link and writing the session',
      async () => {
        for (let i = 0; i < reps; i++) {
          const m = await kakaoOnlyMember();
          const code = await hybridCode(bed, m.kakaoId);
          // Audit events are written by the login right after it has read the member's Kakao link, and by the
          // webhook job at the end of its work: while they cannot be written, the login stands still with the
          // link read, and the job gets as far as it can.
          let sent: Awaited<ReturnType<typeof unlinkAtKakao>>;
          const login = await gated('LOCK TABLE audit_events IN SHARE MODE', 2, async () => {
            const pending = codeLogin(code);
            await waitUntil(async () => (await waitingOnLocks()) >= 1, 'the login waits at the gate');
            sent = await unlinkAtKakao(m.kakaoId);
            return pending;
          });
          expect(sent!.status).toBe(200);
          // The login holds the Kakao account when the job comes: it finishes, then the unlink ends it.
          expect([login.status, login.body.result ?? login.body.code]).toEqual([200, 'LOGGED_IN']);
          await settle(m.kakaoId, m.memberId, login);
        }
      },
      timeoutFor(reps, 3_000),
    );
  });
});
