import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres';
import { QueueService } from '../../src/queue/queue.service';
import { WEBHOOK_QUEUE } from '../../src/webhooks/kakao-webhooks.service';
import { connect } from '../support/database';
import { call, signup } from '../support/http';
import { hybridCode, HYBRID_REDIRECT, KakaoTestBed, startWithKakao } from '../support/kakao';

type Answer = Awaited<ReturnType<typeof call>>;

/**
 * PostgreSQL stopped while a request is in the middle of its work, then started again: the request gets a
 * clean error, readiness follows the database, nothing half-written remains, and the next request of the same
 * kind works without restarting the service.
 */
describe('PostgreSQL stopped in the middle of a request', () => {
  // A server of its own: these tests stop it, which would break every other suite on a shared one.
  let pg: EmbeddedPostgresHandle;
  let bed: KakaoTestBed;
  let databaseUrl: string;
  let seq = 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kakao-auth-db-faults-'));

  beforeAll(async () => {
    pg = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      persistent: true,
      fast: true,
      settings: {
        // For holdLockAcrossStop: a prepared transaction keeps its locks through a stop.
        max_prepared_transactions: '4',
        // A crash of the server alone (not of the machine) then loses no commit, fsync off or not.
        synchronous_commit: 'on',
      },
    });
    await pg.createDatabase('faults');
    databaseUrl = pg.url('faults');
    bed = await startWithKakao({ databaseUrl, env: { KAKAO_HTTP_TIMEOUT_MS: '10000' } });
    // The bed's own assertion connection would die with the server; each check below opens its own.
    await bed.t.db.end();
  });
  afterAll(async () => {
    bed?.kakao.clearFaults();
    await bed?.t.app.close();
    await bed?.kakao.close();
    await pg?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  async function query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = await connect(databaseUrl);
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const count = async (sql: string, params: unknown[] = []) =>
    (await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0].n;

  async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const ready = async () => (await call(bed.t, 'GET', '/health/ready')).status;

  /** A connection holding `lockSql` in an open transaction; the server's stop will cut it. */
  async function holdLock(lockSql: string): Promise<Client> {
    const gate = await connect(databaseUrl);
    gate.on('error', () => undefined);
    await gate.query('BEGIN');
    await gate.query(lockSql);
    return gate;
  }
  /**
   * `lockSql` held by a prepared transaction, which outlives every backend and the stop itself: a fast stop
   * SIGTERMs all backends at once, and when the holder was a session its abort could release the lock and
   * let a waiting single-statement request run and commit before its own SIGTERM was handled (seen in CI on
   * a loaded machine). Returns how to release it once the server is back.
   */
  async function holdLockAcrossStop(lockSql: string): Promise<() => Promise<void>> {
    const name = `gate-${process.pid}-${++seq}`;
    const gate = await connect(databaseUrl);
    try {
      await gate.query('BEGIN');
      await gate.query(lockSql);
      await gate.query(`PREPARE TRANSACTION '${name}'`);
    } finally {
      await gate.end();
    }
    return async () => void (await query(`ROLLBACK PREPARED '${name}'`));
  }
  const waitingOnLock = async (pattern: string) =>
    (
      await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
        [pattern],
      )
    )[0].n > 0;

  /** Stops the server; readiness must say so. */
  async function stopDatabase(): Promise<void> {
    await pg.stop();
    await waitUntil(async () => (await ready()) === 503, '/health/ready answers 503');
    const down = await call(bed.t, 'GET', '/health/ready');
    expect(down.status).toBe(503);
    expect(down.body).toEqual(
      expect.objectContaining({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', requestId: expect.any(String) }),
    );
  }

  /**
   * Crashes the server: an immediate stop kills every backend without a clean goodbye, as an OOM kill or a
   * failover would; the pooled connections are cut under the service.
   */
  async function crashDatabase(): Promise<void> {
    const postmaster = Number(readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGQUIT');
    await waitUntil(async () => (await ready()) === 503, '/health/ready answers 503');
  }

  /** Starts it again; readiness must follow without a restart of the service. */
  async function startDatabase(): Promise<void> {
    await pg.start();
    await waitUntil(async () => (await ready()) === 200, '/health/ready answers 200 again');
  }

  /** The error shape of API.md for a failure that is the database's, without internals. */
  function expectCleanServerError(res: Answer): void {
    expect(res.status).toBe(500);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'message', 'requestId', 'statusCode']);
    expect(res.body).toEqual(expect.objectContaining({ statusCode: 500, code: 'INTERNAL_ERROR' }));
    expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED|terminat|postgres|at .*\.ts|QueryFailed/i);
  }

  /** No member who cannot log in (neither a password nor an identity), no session without a refresh token. */
  async function expectNothingHalfWritten(): Promise<void> {
    expect(
      await count(`members m WHERE m.status <> 'withdrawn' AND m.password_hash IS NULL
                   AND NOT EXISTS (SELECT 1 FROM member_identities i WHERE i.member_id = m.id)`),
    ).toBe(0);
    expect(await count(`sessions s WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id)`)).toBe(
      0,
    );
    expect(
      await count(`member_identities i WHERE NOT EXISTS (SELECT 1 FROM kakao_tokens k WHERE k.identity_id = i.id)`),
    ).toBe(0);
  }

  function newKakaoUser(): { id: string; email: string } {
    seq += 1;
    const id = `81000000000000${String(seq).padStart(5, '0')}`;
    const email = `dbfault${seq}.${Date.now()}@kakao.example`;
    bed.kakao.addPersona({
      id,
      nickname: `db${seq}`,
      name: `장애${seq}${Date.now()}`,
      email,
      isEmailValid: true,
      isEmailVerified: true,
    });
    return { id, email };
  }
  const codeLogin = (code: string) =>
    call(bed.t, 'POST', '/auth/kakao/code', { body: { code, redirectUri: HYBRID_REDIRECT } });

  /** After a failed first login: the retry signs up exactly one member, with everything a login writes. */
  async function expectOneCleanSignUp(user: { id: string; email: string }): Promise<void> {
    const again = await codeLogin(await hybridCode(bed, user.id));
    expect([again.status, again.body.result]).toEqual([200, 'SIGNED_UP']);
    expect((await call(bed.t, 'GET', '/members/me', { token: again.body.tokens.accessToken })).status).toBe(200);
    expect(await count(`members WHERE email = $1`, [user.email])).toBe(1);
    expect(await count(`member_identities WHERE provider_user_id = $1`, [user.id])).toBe(1);
    expect(await count(`sessions WHERE member_id = $1`, [again.body.member.id])).toBe(1);
    await expectNothingHalfWritten();
  }

  it('a Kakao login: PostgreSQL stops while Kakao is answering; 5xx, 503 and back, the next login signs up', async () => {
    const user = newKakaoUser();
    const code = await hybridCode(bed, user.id);
    const calls = bed.kakao.callCount('GET', '/v2/user/me');
    bed.kakao.injectFault({ path: '/v2/user/me', delayMs: 4_000, times: 1 });
    const pending = codeLogin(code);
    // The request is at Kakao: the database goes away before Kakao's answer comes back.
    await waitUntil(async () => bed.kakao.callCount('GET', '/v2/user/me') > calls, 'the login is at Kakao');
    let answered = false;
    void pending.then(() => (answered = true));
    await stopDatabase();
    expect(answered).toBe(false);
    const res = await pending;
    expectCleanServerError(res);

    await startDatabase();
    expect(await count(`members WHERE email = $1`, [user.email])).toBe(0);
    expect(await count(`member_identities WHERE provider_user_id = $1`, [user.id])).toBe(0);
    await expectOneCleanSignUp(user);
  });

  it('a Kakao login: PostgreSQL stops with the login transaction open, half its rows written; all rolled back', async () => {
    const user = newKakaoUser();
    const code = await hybridCode(bed, user.id);
    // The member, its identity and Kakao's tokens are written before the session: hold the session insert.
    const gate = await holdLock('LOCK TABLE sessions IN SHARE MODE');
    const pending = codeLogin(code);
    await waitUntil(() => waitingOnLock('%INSERT INTO sessions%'), 'the login waits to write its session');
    await stopDatabase();
    const res = await pending;
    expectCleanServerError(res);
    await gate.end().catch(() => undefined);

    await startDatabase();
    expect(await count(`members WHERE email = $1`, [user.email])).toBe(0);
    expect(await count(`member_identities WHERE provider_user_id = $1`, [user.id])).toBe(0);
    await expectOneCleanSignUp(user);
  });

  it('a refresh: PostgreSQL stops while it rotates; 5xx, then the same refresh token works once', async () => {
    const member = await signup(bed.t);
    const refresh = (refreshToken: string) => call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken } });
    const release = await holdLockAcrossStop(
      `SELECT 1 FROM refresh_tokens WHERE token_hash = sha256('${member.refreshToken}'::bytea) FOR UPDATE`,
    );
    const pending = refresh(member.refreshToken);
    await waitUntil(() => waitingOnLock('%spent AS%'), 'the refresh waits at the token');
    await stopDatabase();
    const res = await pending;
    expectCleanServerError(res);

    await startDatabase();
    await release();
    // The rotation was rolled back with the server: the token is unspent and has no successor.
    const rows = await query<{ spent: boolean; session_id: string }>(
      `SELECT spent_at IS NOT NULL AS spent, session_id FROM refresh_tokens WHERE token_hash = sha256($1::bytea)`,
      [Buffer.from(member.refreshToken)],
    );
    expect(rows).toEqual([{ spent: false, session_id: expect.any(String) }]);
    expect(await count(`refresh_tokens WHERE session_id = $1`, [rows[0].session_id])).toBe(1);

    const next = await refresh(member.refreshToken);
    expect(next.status).toBe(200);
    expect((await call(bed.t, 'GET', '/members/me', { token: next.body.accessToken })).status).toBe(200);
    expect((await refresh(next.body.refreshToken)).status).toBe(200);
    await expectNothingHalfWritten();
  });

  it('PostgreSQL crashes under load: every request in flight gets a clean 5xx, no commit is lost, the pool recovers', async () => {
    const member = await signup(bed.t);
    const user = newKakaoUser();
    const first = await codeLogin(await hybridCode(bed, user.id));
    expect(first.body.result).toBe('SIGNED_UP');
    const me = (token: string) => call(bed.t, 'GET', '/members/me', { token });
    // Twenty requests held at the database when it dies: all ten pooled connections wait on a lock (the
    // other ten requests wait for a connection), so every one of them meets the crash.
    const gate = await holdLock('LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE');
    const inFlight = Promise.all(Array.from({ length: 20 }, () => me(member.accessToken)));
    await waitUntil(
      async () =>
        (await count(`pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                      AND query LIKE '%FROM sessions s JOIN members%'`)) === 10,
      'every pooled connection waits at the sessions table',
    );
    await crashDatabase();
    for (const res of await inFlight) expectCleanServerError(res);
    await gate.end().catch(() => undefined);

    await startDatabase();
    // Each of the next requests gets a pooled connection: none may be a dead one left from before the crash.
    const after = await Promise.all(Array.from({ length: 20 }, () => me(member.accessToken)));
    expect(after.map((res) => res.status)).toEqual(after.map(() => 200));
    const again = await codeLogin(await hybridCode(bed, user.id));
    expect([again.status, again.body.result, again.body.member.id]).toEqual([200, 'LOGGED_IN', first.body.member.id]);
    expect((await call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken: member.refreshToken } })).status).toBe(
      200,
    );
    await expectNothingHalfWritten();
  });

  describe('an unlink webhook', () => {
    const unlinkUrl = () => `${bed.t.url}/webhooks/kakao/unlink`;
    const drained = () => bed.t.app.get(QueueService).drained(WEBHOOK_QUEUE, 30_000);

    async function kakaoOnlyMember() {
      const user = newKakaoUser();
      const res = await codeLogin(await hybridCode(bed, user.id));
      expect(res.body.result).toBe('SIGNED_UP');
      return { kakaoId: user.id, memberId: res.body.member.id as string, tokens: res.body.tokens };
    }
    const statusOf = async (memberId: string) =>
      (await query<{ status: string }>(`SELECT status FROM members WHERE id = $1`, [memberId]))[0].status;

    it('PostgreSQL stops before the call is stored: answered 200 all the same, stored and applied once it is back', async () => {
      const m = await kakaoOnlyMember();
      const inbox = await count('webhook_inbox');
      const gate = await holdLock('LOCK TABLE webhook_inbox IN EXCLUSIVE MODE');
      const sent = bed.kakao.sendUnlinkWebhook(unlinkUrl(), { userId: m.kakaoId });
      await waitUntil(() => waitingOnLock('%INSERT INTO webhook_inbox%'), 'the webhook waits to be stored');
      await pg.stop();
      // The write failed at once; Kakao still gets its 200 (KAKAO_API.md 7.1: always), and sends no retry.
      expect((await sent).status).toBe(200);
      await gate.end().catch(() => undefined);

      await startDatabase();
      await waitUntil(async () => (await count('webhook_inbox')) === inbox + 1, 'the call is stored', 30_000);
      await drained();
      await waitUntil(async () => (await statusOf(m.memberId)) === 'withdrawn', 'the unlink is applied', 30_000);
      expect((await call(bed.t, 'GET', '/members/me', { token: m.tokens.accessToken })).status).toBe(401);
      await expectNothingHalfWritten();
    });

    it('PostgreSQL stops after the call was answered 200 but before it was stored: stored and applied once it is back', async () => {
      const m = await kakaoOnlyMember();
      const inbox = await count('webhook_inbox');
      const gate = await holdLock('LOCK TABLE webhook_inbox IN EXCLUSIVE MODE');
      // The service answers Kakao within its 3 s even while the write waits (KAKAO_API.md 7.1)...
      const res = await bed.kakao.sendUnlinkWebhook(unlinkUrl(), { userId: m.kakaoId });
      expect(res.status).toBe(200);
      // ...so having said 200, it must not lose the call when the database then goes away.
      await stopDatabase();
      await gate.end().catch(() => undefined);

      await startDatabase();
      await waitUntil(async () => (await count('webhook_inbox')) === inbox + 1, 'the call is stored', 30_000);
      await drained();
      await waitUntil(async () => (await statusOf(m.memberId)) === 'withdrawn', 'the unlink is applied', 30_000);
      expect(await count(`webhook_inbox WHERE processed_at IS NULL`)).toBe(0);
      expect((await call(bed.t, 'GET', '/members/me', { token: m.tokens.accessToken })).status).toBe(401);
      await expectNothingHalfWritten();
    });
  });
});
