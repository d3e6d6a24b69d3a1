/**
 * The benchmark's data set, seeded with bulk SQL into the service's own (migrated) schema, and the matching
 * values the load generator needs (ids, access tokens, refresh tokens) computed the same way in JavaScript.
 *
 *   members            100,000   id md5('bm'||i), Kakao-only members, active, email verified
 *   member_identities  100,000   Kakao id 7000000000000000000 + i
 *   sessions           200,000   session s belongs to member s % 100,000
 *   refresh_tokens   1,000,000   token j (plaintext base64url(sha256('bench-rt-'||j))) in session j % 200,000
 *
 * Ranges by use, so scenarios do not disturb each other: members 0–9,999 carry the access tokens of
 * scenarios 1 and 2; members 10,000–10,999 are the Kakao personas that log in (scenario 4); members
 * 50,000–99,999 receive the unlink webhooks (scenario 5, which may withdraw them); refresh tokens are only
 * used when their session's member is below 50,000.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { Client } from 'pg';

export const MEMBERS = 100_000;
export const SESSIONS = 200_000;
export const REFRESH_TOKENS = 1_000_000;
export const TOKEN_MEMBERS = 10_000;
export const LOGIN_MEMBERS = { from: 10_000, count: 1_000 };
export const WEBHOOK_MEMBERS = { from: 50_000, count: 50_000 };
export const KAKAO_ID_BASE = 7_000_000_000_000_000_000n;

const md5uuid = (s: string): string => {
  const h = createHash('md5').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
export const memberId = (i: number): string => md5uuid(`bm${i}`);
export const sessionId = (s: number): string => md5uuid(`bs${s}`);
export const kakaoId = (i: number): string => (KAKAO_ID_BASE + BigInt(i)).toString();
export const refreshTokenPlain = (j: number): string =>
  createHash('sha256').update(`bench-rt-${j}`).digest('base64url');
/** Whether refresh token j may be spent by the refresh scenario (its member is never withdrawn). */
export const refreshTokenUsable = (j: number): boolean => (j % SESSIONS) % MEMBERS < WEBHOOK_MEMBERS.from;

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * An access token exactly as the service issues it (AccessTokenService.issue): HS256, header
 * {alg, typ: at+jwt, kid}, claims sid, auth_time, amr, iat, exp, aud, iss, sub, jti.
 */
export function accessToken(
  secret: string,
  claims: { memberId: string; sessionId: string; issuer: string; audience: string; ttl: number },
): string {
  const kid = createHash('sha256').update(`kakao-auth:kid:${secret}`).digest('base64url').slice(0, 16);
  const now = Math.floor(Date.now() / 1000);
  const header = b64url({ alg: 'HS256', typ: 'at+jwt', kid });
  const payload = b64url({
    sid: claims.sessionId,
    auth_time: now,
    amr: ['kakao'],
    iat: now,
    exp: now + claims.ttl,
    aud: claims.audience,
    iss: claims.issuer,
    sub: claims.memberId,
    jti: randomUUID(),
  });
  const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

const RT_PLAIN_SQL = (j: string) =>
  `translate(rtrim(encode(sha256(convert_to('bench-rt-' || ${j}, 'UTF8')), 'base64'), '='), '+/', '-_')`;

/** Seeds the data set; returns seconds per table. The schema must exist (the service migrated it). */
export async function seed(url: string, log: (line: string) => void): Promise<Record<string, number>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  const took: Record<string, number> = {};
  const step = async (name: string, sql: string) => {
    const t = performance.now();
    await c.query(sql);
    took[name] = Math.round(performance.now() - t) / 1000;
    log(`  seeded ${name} in ${took[name]} s`);
  };
  try {
    await c.query('SET synchronous_commit = off');
    await step(
      'members',
      `INSERT INTO members (id, email, email_normalized, email_verified, name, status, profile, created_at, updated_at)
       SELECT md5('bm' || i)::uuid, 'member' || i || '@bench.example', 'member' || i || '@bench.example', true,
              'Bench Member ' || i, 'active',
              jsonb_build_object('nickname', 'bench' || i, 'profileImageUrl', null, 'thumbnailImageUrl', null,
                                 'gender', null, 'ageRange', null, 'birthyear', null, 'birthday', null,
                                 'birthdayType', null, 'isLeapMonth', null, 'phoneNumber', null),
              now() - interval '30 days', now() - interval '30 days'
       FROM generate_series(0, ${MEMBERS - 1}) AS i`,
    );
    await step(
      'member_identities',
      `INSERT INTO member_identities (id, member_id, provider, provider_user_id, connected_at, linked_at)
       SELECT md5('bi' || i)::uuid, md5('bm' || i)::uuid, 'kakao', (${KAKAO_ID_BASE}::numeric + i)::text,
              now() - interval '30 days', now() - interval '30 days'
       FROM generate_series(0, ${MEMBERS - 1}) AS i`,
    );
    await step(
      'sessions',
      `INSERT INTO sessions (id, member_id, amr, auth_time, created_at, expires_at)
       SELECT md5('bs' || s)::uuid, md5('bm' || (s % ${MEMBERS}))::uuid, 'kakao', now() - interval '1 hour',
              now() - interval '1 hour', now() + interval '29 days'
       FROM generate_series(0, ${SESSIONS - 1}) AS s`,
    );
    await step(
      'refresh_tokens',
      `INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
       SELECT sha256(convert_to(${RT_PLAIN_SQL('j')}, 'UTF8')), md5('bs' || (j % ${SESSIONS}))::uuid,
              now() - interval '1 hour', now() + interval '13 days'
       FROM generate_series(0, ${REFRESH_TOKENS - 1}) AS j`,
    );
    // VACUUM too: otherwise autovacuum works through the fresh million rows during the first scenarios.
    await step('vacuum analyze', 'VACUUM ANALYZE');
  } finally {
    await c.end();
  }
  return took;
}

/** The emulator's personas for the login scenario: linked to seeded members through their Kakao ids. */
export function loginPersonas(): unknown[] {
  return Array.from({ length: LOGIN_MEMBERS.count }, (_, k) => {
    const i = LOGIN_MEMBERS.from + k;
    return {
      id: kakaoId(i),
      key: `bench-${i}`,
      nickname: `bench${i}`,
      name: `Bench Member ${i}`,
      email: `member${i}@bench.example`,
      isEmailValid: true,
      isEmailVerified: true,
    };
  });
}
