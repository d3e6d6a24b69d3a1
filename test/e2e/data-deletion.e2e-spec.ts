import type { Client } from 'pg';
import { MAIL_QUEUE } from '../../src/mail/mail.service';
import { QueueService } from '../../src/queue/queue.service';
import { WEBHOOK_QUEUE } from '../../src/webhooks/kakao-webhooks.service';
import { call, signup } from '../support/http';
import { hybridCode, hybridLogin, HYBRID_REDIRECT, KakaoTestBed, startWithKakao } from '../support/kakao';

/**
 * "Deleted" must mean gone: after a withdrawal or an unlink webhook, no table of the database (the service's
 * and the job queue's) holds the person's email, name, nickname, phone or Kakao id in any column.
 */
async function traces(db: Client, needles: string[]): Promise<string[]> {
  const tables = await db.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
     WHERE table_schema IN ('public', 'pgboss') AND table_type = 'BASE TABLE'`,
  );
  const found: string[] = [];
  for (const { schema, name } of tables.rows) {
    for (const needle of needles) {
      const hit = await db.query(`SELECT 1 FROM "${schema}"."${name}" t WHERE row_to_json(t)::text ILIKE $1 LIMIT 1`, [
        `%${needle}%`,
      ]);
      if (hit.rowCount) found.push(`${schema}.${name}: ${needle}`);
    }
  }
  return found;
}

let seq = 0;
function person(bed: KakaoTestBed) {
  seq += 1;
  const tag = `${Date.now().toString(36)}${seq}`;
  const p = {
    id: `70000000000000${String(seq).padStart(5, '0')}`,
    email: `gone.${tag}@kakao.example`,
    name: `삭제${tag}`,
    nickname: `nick-${tag}`,
    phone: `+82 10-${String(1000 + seq)}-${String(5000 + seq)}`,
  };
  bed.kakao.addPersona({
    id: p.id,
    email: p.email,
    name: p.name,
    nickname: p.nickname,
    phoneNumber: p.phone,
    isEmailValid: true,
    isEmailVerified: true,
  });
  const e164 = `+82${p.phone.slice(4).replace(/\D/g, '').replace(/^0/, '')}`;
  return { ...p, needles: [p.email, p.name, p.nickname, p.id, e164] };
}

describe('data deletion is real', () => {
  let bed: KakaoTestBed;
  const drain = async () => {
    await bed.t.app.get(QueueService).drained(WEBHOOK_QUEUE, 20_000);
    await bed.t.app.get(QueueService).drained(MAIL_QUEUE, 20_000);
  };

  beforeAll(async () => {
    bed = await startWithKakao();
  });
  afterAll(async () => {
    await bed.close();
  });

  it('after a withdrawal, no table holds anything of the person', async () => {
    const p = person(bed);
    const login = await hybridLogin(bed, p.id);
    expect(login.body.result).toBe('SIGNED_UP');
    const token = login.body.tokens.accessToken as string;
    // Leave traces everywhere a person's use of the service writes: terms, refresh, a second login.
    await call(bed.t, 'DELETE', '/members/me/terms/marketing', { token });
    await call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken: login.body.tokens.refreshToken } });
    const again = await hybridLogin(bed, p.id);
    expect((await traces(bed.t.db, p.needles)).length).toBeGreaterThan(0);

    const withdrawn = await call(bed.t, 'DELETE', '/members/me', { token: again.body.tokens.accessToken });
    expect(withdrawn.status).toBe(204);
    await drain();
    expect(await traces(bed.t.db, p.needles)).toEqual([]);
  });

  it('after an unlink webhook withdraws a Kakao-only member, no table holds anything of the person', async () => {
    const p = person(bed);
    expect((await hybridLogin(bed, p.id)).body.result).toBe('SIGNED_UP');
    const res = await bed.kakao.unlinkUser(p.id, { webhook: { url: `${bed.t.url}/webhooks/kakao/unlink` } });
    expect(res?.status).toBe(200);
    await drain();
    expect(await traces(bed.t.db, p.needles)).toEqual([]);
  });

  it('after an unlink webhook of a member with a password, nothing Kakao gave remains', async () => {
    const p = person(bed);
    const m = await signup(bed.t);
    const linked = await call(bed.t, 'POST', '/members/me/kakao', {
      token: m.accessToken,
      body: { code: await hybridCode(bed, p.id), redirectUri: HYBRID_REDIRECT },
    });
    expect(linked.status).toBe(200);
    const res = await bed.kakao.unlinkUser(p.id, { webhook: { url: `${bed.t.url}/webhooks/kakao/unlink` } });
    expect(res?.status).toBe(200);
    await drain();
    // The member's own email and name stay; Kakao's id, nickname, phone and email do not.
    expect(await traces(bed.t.db, [p.id, p.nickname, p.needles[4], p.email])).toEqual([]);
    // The account stays, and with it the required terms its person accepted (through Kakao Sync or not).
    expect(
      (await call(bed.t, 'POST', '/auth/login', { body: { email: m.email, password: m.password } })).body.result,
    ).toBe('LOGGED_IN');
  });
});
