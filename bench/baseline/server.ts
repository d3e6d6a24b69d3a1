/**
 * The benchmark baseline: a bare Fastify + `pg` server that does, per request, the same work as the service
 * on the benchmarked routes: the same HS256 access-token checks (header, kid, signature, iss, aud, exp,
 * claim shapes), the same SQL statements in the same order and transactions, the same Kakao
 * calls, the same AES-256-GCM sealing of Kakao's tokens and the same response bodies. What it leaves out is
 * everything a framework and a production service add around that work (Nest's DI and pipeline, validation
 * pipes, guards, interceptors, helmet, CORS, metrics, request logging, rate limiting): the ratio of the
 * service to this server is what those cost.
 *
 * Configured by the service's own variable names (DATABASE_URL, JWT_SECRET, …) plus BASELINE_* ones:
 *   BASELINE_KAKAO_TERMS=1     also read /v2/user/service_terms during a Kakao login (set when the service does)
 *   BASELINE_WEBHOOK_INBOX, BASELINE_WEBHOOK_UNLINKS, BASELINE_WEBHOOK_QUEUE   where the unlink webhook writes
 * Run: `node dist/bench/baseline/server.js` (the runner starts it pinned to the service's core).
 */
import Fastify, { FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import jwt from 'jsonwebtoken';
import { createLocalJWKSet, JSONWebKeySet, jwtVerify } from 'jose';
import {
  createCipheriv,
  createHash,
  createHmac,
  createSecretKey,
  KeyObject,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { constants as perfConstants, PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { Pool, PoolClient } from 'pg';
import { genRequestId, REQUEST_ID_HEADER } from '../../src/common/http/request-id';
import { ANSWER_HEADERS as SERVICE_ANSWER_HEADERS } from '../../src/common/http/security-headers';
import { poolSettings } from '../../src/database/pool-settings';
import { parseKakaoJson } from '../../src/kakao/kakao-json';
import { toKakaoProfile, KakaoProfile } from '../../src/kakao/kakao-profile';
import type { KakaoTokenResponse, KakaoUserRaw } from '../../src/kakao/kakao.types';

const env = process.env;
const must = (name: string): string => {
  const v = env[name];
  if (!v) throw new Error(`baseline: ${name} is required`);
  return v;
};

const PUBLIC_URL = (env.PUBLIC_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const ISSUER = env.JWT_ISSUER ?? PUBLIC_URL;
const AUDIENCE = env.JWT_AUDIENCE ?? 'kakao-auth';
const ACCESS_TTL = Number(env.ACCESS_TOKEN_TTL ?? 900);
const REFRESH_TTL = Number(env.REFRESH_TOKEN_TTL ?? 2_592_000);
const REFRESH_IDLE_TTL = Number(env.REFRESH_TOKEN_IDLE_TTL ?? 1_209_600);
const SECRET = must('JWT_SECRET');
const KAKAO_AUTH = (env.KAKAO_AUTH_BASE_URL ?? 'https://kauth.kakao.com').replace(/\/+$/, '');
const KAKAO_API = (env.KAKAO_API_BASE_URL ?? 'https://kapi.kakao.com').replace(/\/+$/, '');
const KAKAO_ISSUER = (env.KAKAO_ISSUER ?? KAKAO_AUTH).replace(/\/+$/, '');
const REST_KEY = must('KAKAO_REST_API_KEY');
const CLIENT_SECRET = env.KAKAO_CLIENT_SECRET || undefined;
const ADMIN_KEY = must('KAKAO_ADMIN_KEY');
const APP_ID = must('KAKAO_APP_ID');
const REQUIRED_ITEMS = (env.KAKAO_REQUIRED_ITEMS ?? 'account_email').split(/[\s,]+/).filter(Boolean);
const ALLOWED_CODE_REDIRECTS = (env.ALLOWED_CODE_REDIRECT_URIS ?? '').split(',').map((s) => s.trim());
const HTTP_TIMEOUT_MS = Number(env.KAKAO_HTTP_TIMEOUT_MS ?? 5000);
const WITH_TERMS = env.BASELINE_KAKAO_TERMS === '1';
/** Where the unlink webhook writes (made by the runner as copies of the service's tables, see environment.ts). */
const WEBHOOK_TABLES = {
  inbox: env.BASELINE_WEBHOOK_INBOX ?? 'bench_baseline_webhook_inbox',
  unlinks: env.BASELINE_WEBHOOK_UNLINKS ?? 'bench_baseline_kakao_unlinks',
  queue: env.BASELINE_WEBHOOK_QUEUE ?? 'bench-baseline-webhook',
};

// ---- own access tokens: HS256 with a KeyObject made once ------------------------------------------------
const kid = (secret: string) =>
  createHash('sha256').update(`kakao-auth:kid:${secret}`).digest('base64url').slice(0, 16);
const SIGNING_KID = kid(SECRET);
const KEYS = new Map<string, KeyObject>(
  [SECRET, ...(env.JWT_PREVIOUS_SECRETS ?? '').split(',').filter(Boolean)].map((s) => [
    kid(s),
    createSecretKey(Buffer.from(s, 'utf8')),
  ]),
);
const SIGNING_KEY = KEYS.get(SIGNING_KID)!;

interface Claims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  auth_time: number;
  amr: string[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

const TOKEN_PART = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isSeconds = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
function verifyAccessToken(token: string): Claims {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => TOKEN_PART.test(p))) throw new HttpError(401, 'UNAUTHENTICATED');
  let header: { alg?: unknown; typ?: unknown; kid?: unknown; crit?: unknown };
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as typeof header;
  } catch {
    throw new HttpError(401, 'UNAUTHENTICATED');
  }
  if (
    header?.alg !== 'HS256' ||
    header.typ !== 'at+jwt' ||
    typeof header.kid !== 'string' ||
    header.crit !== undefined
  ) {
    throw new HttpError(401, 'UNAUTHENTICATED');
  }
  const key = KEYS.get(header.kid);
  if (!key) throw new HttpError(401, 'UNAUTHENTICATED');
  let c: Record<string, unknown>;
  try {
    c = jwt.verify(token, key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
    }) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw new HttpError(401, 'TOKEN_EXPIRED');
    throw new HttpError(401, 'UNAUTHENTICATED');
  }
  const now = Math.floor(Date.now() / 1000);
  if (
    typeof c.sub !== 'string' ||
    !UUID.test(c.sub) ||
    typeof c.sid !== 'string' ||
    !UUID.test(c.sid) ||
    typeof c.jti !== 'string' ||
    !isSeconds(c.iat) ||
    c.iat > now + 60 ||
    !isSeconds(c.exp) ||
    c.exp <= c.iat ||
    !isSeconds(c.auth_time) ||
    c.auth_time > now + 60 ||
    !Array.isArray(c.amr) ||
    c.amr.length === 0 ||
    !c.amr.every((m) => m === 'pwd' || m === 'kakao')
  ) {
    throw new HttpError(401, 'UNAUTHENTICATED');
  }
  return c as unknown as Claims;
}

function issueAccessToken(memberId: string, sessionId: string, authTime: Date, amr: string): string {
  return jwt.sign({ sid: sessionId, auth_time: Math.floor(authTime.getTime() / 1000), amr: [amr] }, SIGNING_KEY, {
    algorithm: 'HS256',
    header: { alg: 'HS256', typ: 'at+jwt', kid: SIGNING_KID },
    expiresIn: ACCESS_TTL,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: memberId,
    jwtid: randomUUID(),
  });
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;
function bearer(request: FastifyRequest): string {
  const m = request.headers.authorization && BEARER.exec(request.headers.authorization);
  if (!m) throw new HttpError(401, 'UNAUTHENTICATED');
  return m[1];
}

// ---- service clients (HTTP Basic, constant time) ---------------------------------------------------------
const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest();
const SERVICE_CLIENTS = (env.SERVICE_CLIENTS ?? '')
  .split(',')
  .filter(Boolean)
  .map((e) => {
    const i = e.indexOf(':');
    return { name: digest(e.slice(0, i)), secret: digest(e.slice(i + 1)) };
  });
function checkServiceClient(request: FastifyRequest): void {
  const m = request.headers.authorization && /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(request.headers.authorization);
  if (m) {
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) {
      const name = digest(decoded.slice(0, i));
      const secret = digest(decoded.slice(i + 1));
      let ok = false;
      for (const c of SERVICE_CLIENTS) ok = (timingSafeEqual(c.name, name) && timingSafeEqual(c.secret, secret)) || ok;
      if (ok) return;
    }
  }
  throw new HttpError(401, 'SERVICE_UNAUTHORIZED');
}

// ---- sealing of Kakao tokens (AES-256-GCM, same format as the service's TokenCipher) ---------------------
const ENC_KEY = Buffer.from(must('TOKEN_ENCRYPTION_KEY'), 'base64');
function seal(plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', ENC_KEY, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** The service's keyed hash of a Kakao user id (TokenCipher.fingerprint): unlink marks are found by it. */
const FINGERPRINT_KEY = createHmac('sha256', ENC_KEY).update('fingerprint-key').digest();
const kakaoUserHash = (kakaoUserId: string) =>
  createHmac('sha256', FINGERPRINT_KEY).update(`kakao-user\0${kakaoUserId}`).digest();
const ACCOUNT_LOCK_CLASS = 0x4b414b41;
const accountLockKey = (kakaoUserId: string) =>
  createHash('sha256').update(`kakao-account:${kakaoUserId}`).digest().readInt32BE(0);
const hashToken = (t: string) => createHash('sha256').update(t).digest();

// ---- the same SQL as the service ---------------------------------------------------------------------------
// The service's pool settings (size, kept connections, keep-alive): a pool that closes idle connections
// pays for new ones in the next burst, which would show in the p99s as a difference of configuration.
const pool = new Pool({ connectionString: must('DATABASE_URL'), ...poolSettings(Number(env.DB_POOL_SIZE ?? 10)) });

const SQL = {
  lockAccount: `SELECT pg_advisory_xact_lock($1::int, $2::int)`,
  unlinkedAt: `SELECT unlinked_at FROM kakao_unlinks WHERE kakao_user_hash = $1`,
  lockTerms: `UPDATE members SET
         terms_synced_at = CASE WHEN $2 = 'read' THEN now() ELSE terms_synced_at END,
         terms_stale = CASE $2 WHEN 'read' THEN false WHEN 'failed' THEN true ELSE terms_stale END
       WHERE id = $1`,
  termStates: `SELECT tag, agreed, agreed_at, agreed_by, source, kakao_agreed, changed_at FROM member_terms WHERE member_id = $1`,
  isActive: `SELECT 1 FROM sessions s JOIN members m ON m.id = s.member_id
       WHERE s.id = $1 AND s.member_id = $2 AND s.revoked_at IS NULL AND m.status = 'active'`,
  findById: `SELECT 
  m.id, m.email, m.email_verified, m.name, m.status, m.password_hash IS NOT NULL AS has_password, m.profile,
  m.created_at,
  COALESCE((SELECT json_agg(json_build_object('provider', i.provider, 'provider_user_id', i.provider_user_id,
                     'connected_at', i.connected_at, 'linked_at', i.linked_at) ORDER BY i.linked_at)
            FROM member_identities i WHERE i.member_id = m.id), '[]') AS identities FROM members m WHERE m.id = $1`,
  liveMemberStatus: `SELECT m.status FROM sessions s JOIN members m ON m.id = s.member_id
       WHERE s.id = $1 AND s.member_id = $2 AND s.revoked_at IS NULL`,
  rotate: `WITH live AS (
           SELECT s.id, s.member_id, s.amr, s.auth_time, s.expires_at
           FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN members m ON m.id = s.member_id
           WHERE t.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND m.status = 'active'
         ), spent AS (
           UPDATE refresh_tokens t SET spent_at = now()
           FROM live
           WHERE t.token_hash = $1 AND t.session_id = live.id AND t.spent_at IS NULL AND t.expires_at > now()
           RETURNING t.session_id
         ), successor AS (
           INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
           SELECT $2, live.id, LEAST(now() + make_interval(secs => $3), live.expires_at)
           FROM live JOIN spent ON spent.session_id = live.id
           RETURNING session_id
         )
         SELECT live.id AS session_id, live.member_id, live.amr, live.auth_time
         FROM live JOIN successor ON successor.session_id = live.id`,
  findByKakaoId: `SELECT i.member_id, i.id AS identity_id, m.status FROM member_identities i JOIN members m ON m.id = i.member_id
       WHERE i.provider = 'kakao' AND i.provider_user_id = $1`,
  audit: `INSERT INTO audit_events (type, member_id, request_id, data) VALUES ($1, $2, $3, $4)`,
  updateProfile: `UPDATE members SET profile = $2, updated_at = now() WHERE id = $1`,
  updateConnectedAt: `UPDATE member_identities SET connected_at = COALESCE($3, connected_at) WHERE member_id = $1 AND provider = 'kakao' AND provider_user_id = $2`,
  saveKakaoTokens: `INSERT INTO kakao_tokens (identity_id, access_token_sealed, access_expires_at, refresh_token_sealed,
                                 refresh_expires_at, scopes, updated_at)
       VALUES ($1, $2, now() + make_interval(secs => $3), $4,
               CASE WHEN $4::text IS NULL THEN NULL ELSE now() + make_interval(secs => $5) END, $6, now())
       ON CONFLICT (identity_id) DO UPDATE SET
         access_token_sealed = EXCLUDED.access_token_sealed,
         access_expires_at = EXCLUDED.access_expires_at,
         refresh_token_sealed = COALESCE(EXCLUDED.refresh_token_sealed, kakao_tokens.refresh_token_sealed),
         refresh_expires_at = COALESCE(EXCLUDED.refresh_expires_at, kakao_tokens.refresh_expires_at),
         scopes = CASE WHEN EXCLUDED.scopes = '' THEN kakao_tokens.scopes ELSE EXCLUDED.scopes END,
         updated_at = now()`,
  createSession: `INSERT INTO sessions (member_id, amr, auth_time, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id`,
  addRefreshToken: `INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
       SELECT $1, id, LEAST(now() + make_interval(secs => $3), expires_at) FROM sessions WHERE id = $2`,
  recordLogin: `UPDATE members SET last_login_at = now() WHERE id = $1`,
};

interface MemberRow {
  id: string;
  email: string | null;
  email_verified: boolean;
  name: string | null;
  status: string;
  has_password: boolean;
  profile: Record<string, unknown>;
  created_at: Date;
  identities: Array<{ provider: string; provider_user_id: string; connected_at: string | null; linked_at: string }>;
}

const PROFILE_KEYS = [
  'nickname',
  'profileImageUrl',
  'thumbnailImageUrl',
  'gender',
  'ageRange',
  'birthyear',
  'birthday',
  'birthdayType',
  'isLeapMonth',
  'phoneNumber',
] as const;

/** API.md's Member shape, as the service's toMemberDto builds it. */
function memberBody(row: MemberRow) {
  const profile: Record<string, unknown> = {};
  for (const k of PROFILE_KEYS) profile[k] = row.profile[k] ?? null;
  const loginMethods: string[] = [];
  if (row.has_password) loginMethods.push('password');
  if (row.identities.some((i) => i.provider === 'kakao')) loginMethods.push('kakao');
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified,
    name: row.name,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    loginMethods,
    profile,
    identities: row.identities.map((i) => ({
      provider: i.provider,
      providerUserId: i.provider_user_id,
      connectedAt: i.connected_at ? new Date(i.connected_at).toISOString() : null,
      linkedAt: new Date(i.linked_at).toISOString(),
    })),
  };
}

function profileJson(p: KakaoProfile): string {
  return JSON.stringify({
    nickname: p.nickname,
    profileImageUrl: p.profileImageUrl,
    thumbnailImageUrl: p.thumbnailImageUrl,
    gender: p.gender,
    ageRange: p.ageRange,
    birthyear: p.birthyear,
    birthday: p.birthday,
    birthdayType: p.birthdayType,
    isLeapMonth: p.isLeapMonth,
    phoneNumber: p.phoneNumber,
  });
}

// ---- Kakao (keep-alive fetch, like the service's client) ---------------------------------------------------
async function kakaoCall(
  url: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const text = await res.text();
  return { status: res.status, body: text ? parseKakaoJson(text) : undefined };
}

let jwks: ReturnType<typeof createLocalJWKSet> | undefined;
async function kakaoKeys() {
  if (!jwks) {
    const { body } = await kakaoCall(`${KAKAO_AUTH}/.well-known/jwks.json`, { method: 'GET' });
    jwks = createLocalJWKSet(body as JSONWebKeySet);
  }
  return jwks;
}

async function exchangeCode(code: string, redirectUri: string): Promise<KakaoTokenResponse> {
  const params = new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: REST_KEY,
    redirect_uri: redirectUri,
    code,
  });
  if (CLIENT_SECRET) params.set('client_secret', CLIENT_SECRET);
  const { status, body } = await kakaoCall(`${KAKAO_AUTH}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: params.toString(),
  });
  if (status >= 400) throw new HttpError(400, 'KAKAO_TOKEN_EXCHANGE_FAILED');
  return body as KakaoTokenResponse;
}

async function kapiGet(path: string, accessToken: string): Promise<unknown> {
  const { status, body } = await kakaoCall(`${KAKAO_API}${path}`, {
    method: 'GET',
    headers: { authorization: `Bearer ${accessToken}` },
  });
  if (status >= 400) throw new HttpError(502, 'KAKAO_UNAVAILABLE');
  return body;
}

async function verifyIdToken(idToken: string, kakaoId: string): Promise<void> {
  const keys = await kakaoKeys();
  try {
    const { payload } = await jwtVerify(idToken, keys, {
      algorithms: ['RS256'],
      issuer: KAKAO_ISSUER,
      audience: [REST_KEY],
      clockTolerance: 60,
      maxTokenAge: 24 * 3600,
      requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp'],
    });
    if (payload.sub !== kakaoId) throw new Error('sub');
  } catch {
    throw new HttpError(401, 'ID_TOKEN_INVALID');
  }
}

async function inTransaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('START TRANSACTION');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

// ---- the server --------------------------------------------------------------------------------------------
const app = Fastify({ logger: false, bodyLimit: 64 * 1024, genReqId: genRequestId });
void app.register(formbody);

/**
 * The headers of the service's answers: helmet's, no caching, what its CORS plugin adds to a request without
 * an Origin, and the request id. The answer is part of the work (the load generator reads every byte of
 * it); the runner compares both sides' header names before each scenario.
 */
const ANSWER_HEADERS = {
  ...SERVICE_ANSWER_HEADERS,
  vary: 'Origin',
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers': `${REQUEST_ID_HEADER}, retry-after`,
};
app.addHook('onRequest', (request, reply, done) => {
  void reply.headers(ANSWER_HEADERS).header(REQUEST_ID_HEADER, request.id);
  done();
});

app.setErrorHandler((err, request, reply) => {
  if (err instanceof HttpError) return reply.status(err.status).send({ statusCode: err.status, code: err.code });
  const status = (err as { statusCode?: number }).statusCode ?? 500;
  if (status >= 500) process.stderr.write(`baseline: ${err instanceof Error ? err.stack : String(err)}\n`);
  return reply
    .status(status)
    .send({ statusCode: status, code: status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_FAILED' });
});

app.get('/health/ready', async () => {
  await pool.query('SELECT 1');
  return { status: 'ok' };
});

// Garbage collections, under prom-client's metric names as the service's /metrics has them, so the runner
// counts both sides' major collections the same way (read between runs, never on a measured path).
const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const gcTotals = new Map<string, { count: number; seconds: number }>();
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
    const total = gcTotals.get(kind) ?? { count: 0, seconds: 0 };
    total.count++;
    total.seconds += entry.duration / 1000;
    gcTotals.set(kind, total);
  }
}).observe({ entryTypes: ['gc'] });
app.get('/metrics', async (_request, reply) => {
  const lines = [...gcTotals].flatMap(([kind, t]) => [
    `nodejs_gc_duration_seconds_count{kind="${kind}"} ${t.count}`,
    `nodejs_gc_duration_seconds_sum{kind="${kind}"} ${t.seconds}`,
  ]);
  return reply.type('text/plain').send(lines.join('\n') + '\n');
});

// Scenario 1: GET /members/me
app.get('/members/me', async (request) => {
  const claims = verifyAccessToken(bearer(request));
  const active = await pool.query(SQL.isActive, [claims.sid, claims.sub]);
  if (active.rows.length === 0) throw new HttpError(401, 'UNAUTHENTICATED');
  const rows = await pool.query<MemberRow>(SQL.findById, [claims.sub]);
  if (!rows.rows[0]) throw new HttpError(404, 'NOT_FOUND');
  return memberBody(rows.rows[0]);
});

// Scenario 2: POST /auth/introspect
app.post('/auth/introspect', async (request, reply: FastifyReply) => {
  checkServiceClient(request);
  const token = (request.body as { token?: unknown } | undefined)?.token;
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096)
    throw new HttpError(400, 'VALIDATION_FAILED');
  let claims: Claims;
  try {
    claims = verifyAccessToken(token);
  } catch {
    return reply.status(200).send({ active: false });
  }
  const { rows } = await pool.query<{ status: string }>(SQL.liveMemberStatus, [claims.sid, claims.sub]);
  const memberStatus = rows[0]?.status;
  if (memberStatus !== 'active') return reply.status(200).send({ active: false });
  const { sub, exp, iat, iss, aud, jti } = claims;
  return reply.status(200).send({ active: true, sub, exp, iat, iss, aud, jti, token_type: 'Bearer', memberStatus });
});

// Scenario 3: POST /auth/refresh (the rotation is one statement, as in the service)
const REFRESH_PATTERN = /^[A-Za-z0-9_-]{43}$/;
app.post('/auth/refresh', async (request, reply) => {
  const refreshToken = (request.body as { refreshToken?: unknown } | undefined)?.refreshToken;
  if (typeof refreshToken !== 'string') throw new HttpError(400, 'VALIDATION_FAILED');
  if (!REFRESH_PATTERN.test(refreshToken)) throw new HttpError(401, 'REFRESH_TOKEN_INVALID');
  const successor = randomBytes(32).toString('base64url');
  const { rows } = await pool.query<{ session_id: string; member_id: string; amr: string; auth_time: Date }>(
    SQL.rotate,
    [hashToken(refreshToken), hashToken(successor), REFRESH_IDLE_TTL],
  );
  const row = rows[0];
  if (!row) throw new HttpError(401, 'REFRESH_TOKEN_INVALID');
  return reply.status(200).send({
    accessToken: issueAccessToken(row.member_id, row.session_id, row.auth_time, row.amr),
    refreshToken: successor,
    tokenType: 'Bearer',
    expiresIn: ACCESS_TTL,
  });
});

// Scenario 4: POST /auth/kakao/code (hybrid flow), the path of an already linked Kakao account (LOGGED_IN)
app.post('/auth/kakao/code', async (request, reply) => {
  const body = request.body as { code?: unknown; redirectUri?: unknown; nonce?: unknown } | undefined;
  if (typeof body?.code !== 'string' || typeof body.redirectUri !== 'string')
    throw new HttpError(400, 'VALIDATION_FAILED');
  if (!ALLOWED_CODE_REDIRECTS.includes(body.redirectUri)) throw new HttpError(400, 'REDIRECT_URI_NOT_ALLOWED');
  const requestId = randomUUID();
  const tokens = await exchangeCode(body.code, body.redirectUri);
  // The user and the terms in parallel, as the service reads them (KakaoAccountReader).
  const [user] = await Promise.all([
    kapiGet('/v2/user/me?secure_resource=true', tokens.access_token) as Promise<KakaoUserRaw>,
    WITH_TERMS ? kapiGet('/v2/user/service_terms', tokens.access_token) : undefined,
  ]);
  const profile = toKakaoProfile(user);
  if (tokens.id_token) await verifyIdToken(tokens.id_token, profile.kakaoId);
  const missing = REQUIRED_ITEMS.filter((i) => !profile.agreedItems.includes(i));
  const outcome = await inTransaction(async (c) => {
    // The service serialises the transactions deciding about one Kakao account (KakaoUnlinks.lockAccount).
    await c.query(SQL.lockAccount, [ACCOUNT_LOCK_CLASS, accountLockKey(profile.kakaoId)]);
    const linked = (
      await c.query<{ member_id: string; identity_id: string; status: string }>(SQL.findByKakaoId, [profile.kakaoId])
    ).rows[0];
    // The benchmark logs in linked, active members with every required item: the service's LOGGED_IN branch.
    if (!linked || linked.status !== 'active' || missing.length > 0) throw new HttpError(409, 'NOT_BENCHMARKED');
    const memberId = linked.member_id;
    // A login must not undo an unlink Kakao told us of (the service compares it with the id_token's auth_time).
    await c.query(SQL.unlinkedAt, [kakaoUserHash(profile.kakaoId)]);
    // Kakao Sync terms: the member's row locked, the recorded state read; unchanged terms write nothing more.
    await c.query(SQL.lockTerms, [memberId, WITH_TERMS ? 'read' : 'not-read']);
    await c.query(SQL.termStates, [memberId]);
    await c.query(SQL.audit, ['member.kakao_decision', memberId, requestId, JSON.stringify({ decision: 'LOGGED_IN' })]);
    await c.query(SQL.updateProfile, [memberId, profileJson(profile)]);
    await c.query(SQL.updateConnectedAt, [memberId, profile.kakaoId, profile.connectedAt]);
    const identityId = linked.identity_id;
    await c.query(SQL.saveKakaoTokens, [
      identityId,
      seal(tokens.access_token, identityId),
      tokens.expires_in,
      tokens.refresh_token ? seal(tokens.refresh_token, identityId) : null,
      tokens.refresh_token_expires_in ?? 0,
      tokens.scope ?? '',
    ]);
    const authTime = new Date();
    const sessionId = (await c.query<{ id: string }>(SQL.createSession, [memberId, 'kakao', authTime, REFRESH_TTL]))
      .rows[0].id;
    const refreshToken = randomBytes(32).toString('base64url');
    await c.query(SQL.addRefreshToken, [hashToken(refreshToken), sessionId, REFRESH_IDLE_TTL]);
    const accessToken = issueAccessToken(memberId, sessionId, authTime, 'kakao');
    await c.query(SQL.recordLogin, [memberId]);
    await c.query(SQL.audit, ['member.logged_in', memberId, requestId, JSON.stringify({ method: 'kakao' })]);
    const member = (await c.query<MemberRow>(SQL.findById, [memberId])).rows[0];
    return {
      result: 'LOGGED_IN',
      tokens: { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: ACCESS_TTL },
      member: memberBody(member),
    };
  });
  return reply.status(200).send(outcome);
});

// Scenario 5: Kakao's unlink webhook, answered as the service answers it: the call, its job and the unlink
// mark written in one transaction with the service's SQL (the job with pg-boss's own insert statement), into
// copies of the tables and a queue no worker reads, so the service never processes the baseline's calls.
// The service also processes its calls in the background; that work is not per request and not done here.
const ADMIN_DIGEST = digest(ADMIN_KEY);
// eslint-disable-next-line @typescript-eslint/no-require-imports -- pg-boss exposes its SQL only through this module
const bossPlans = require('pg-boss/src/plans') as { insertJob(schema: string): string };
const INSERT_JOB = bossPlans.insertJob('pgboss');
app.post('/webhooks/kakao/unlink', async (request, reply) => {
  const auth = request.headers.authorization;
  if (!auth || auth.slice(0, 8).toLowerCase() !== 'kakaoak ' || !timingSafeEqual(digest(auth.slice(8)), ADMIN_DIGEST)) {
    throw new HttpError(401, 'WEBHOOK_UNAUTHORIZED');
  }
  const b = (request.body ?? {}) as { app_id?: unknown; user_id?: unknown; referrer_type?: unknown };
  const userId = typeof b.user_id === 'string' ? b.user_id : undefined;
  const referrerType = typeof b.referrer_type === 'string' ? b.referrer_type : undefined;
  if (String(b.app_id) !== APP_ID || !userId || !/^\d{1,20}$/.test(userId) || !referrerType) {
    throw new HttpError(400, 'VALIDATION_FAILED');
  }
  const hash = kakaoUserHash(userId);
  const now = new Date();
  // The service's unlinkDedupeKey: each call its own row (src/webhooks/kakao-webhook-events.ts).
  const dedupeKey = `unlink:${randomUUID()}`;
  await inTransaction(async (c) => {
    const { rows } = await c.query<{ id: string }>(
      `INSERT INTO ${WEBHOOK_TABLES.inbox} (kind, dedupe_key, event, reason, kakao_user_id, kakao_user_hash, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      ['unlink', dedupeKey, 'unlink', referrerType, userId, hash, null],
    );
    const inboxId = rows[0]?.id;
    if (!inboxId) return;
    // pg-boss's createJob values, in its order: id, name, data, priority, startAfter, singletonKey, …
    await c.query(INSERT_JOB, [
      null,
      WEBHOOK_TABLES.queue,
      { inboxId },
      undefined,
      undefined,
      inboxId,
      undefined,
      0,
      null,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    await c.query(
      `INSERT INTO ${WEBHOOK_TABLES.unlinks} (kakao_user_hash, unlinked_at) VALUES ($1, $2)
       ON CONFLICT (kakao_user_hash) DO UPDATE SET unlinked_at = GREATEST(${WEBHOOK_TABLES.unlinks}.unlinked_at, EXCLUDED.unlinked_at)`,
      [hash, now],
    );
  });
  return reply.status(200).send();
});

const port = Number(env.PORT ?? 3100);
app.listen({ port, host: env.HOST ?? '127.0.0.1' }).then(
  () => process.stdout.write(`baseline listening on http://127.0.0.1:${port}\n`),
  (err: unknown) => {
    process.stderr.write(`baseline failed: ${String(err)}\n`);
    process.exit(1);
  },
);
const stop = () => {
  void app
    .close()
    .then(() => pool.end())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
