import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { keyId } from '../../src/tokens/access-token.service';
import { startTestApp, TestApp } from '../support/app';
import { burst } from '../support/burst';
import { connect } from '../support/database';
import { basic, call, decodeJwt, signup } from '../support/http';

const SECRET = randomBytes(48).toString('base64url');
const PREVIOUS = randomBytes(48).toString('base64url');
const CLIENT = { name: 'orders', secret: 'orders-secret-0123456789' };

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('own tokens and sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        JWT_SECRET: SECRET,
        JWT_PREVIOUS_SECRETS: PREVIOUS,
        ACCESS_TOKEN_TTL: '600',
        DB_POOL_SIZE: '20',
        SERVICE_CLIENTS: `${CLIENT.name}:${CLIENT.secret},billing:other-secret-abcdef`,
      },
    });
  });
  afterAll(() => t.close());

  const me = (token: string) => call(t, 'GET', '/members/me', { token });

  /** Re-signs the claims of a real access token with chosen header and key. */
  function forge(
    realToken: string,
    options: {
      secret?: string;
      kid?: string;
      alg?: string;
      typ?: string;
      header?: Record<string, unknown>;
      claims?: Record<string, unknown>;
    } = {},
  ): string {
    const { payload } = decodeJwt(realToken);
    const secret = options.secret ?? SECRET;
    const alg = options.alg ?? 'HS256';
    const header = { alg, typ: options.typ ?? 'at+jwt', kid: options.kid ?? keyId(secret), ...options.header };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64(header)}.${b64({ ...payload, ...options.claims })}`;
    const hash = /512$/.test(alg) ? 'sha512' : /384$/.test(alg) ? 'sha384' : 'sha256';
    return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
  }

  describe('access tokens', () => {
    it('are HS256 at+jwt with the claims of the contract', async () => {
      const { accessToken, outcome } = await signup(t);
      const { header, payload } = decodeJwt(accessToken);
      expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: keyId(SECRET) });
      expect(payload).toMatchObject({
        iss: t.config.jwt.issuer,
        aud: 'kakao-auth',
        sub: outcome.member.id,
        amr: ['pwd'],
      });
      expect(payload.exp).toBe((payload.iat as number) + 600);
      expect(typeof payload.jti).toBe('string');
      expect(typeof payload.sid).toBe('string');
      expect(Math.abs((payload.auth_time as number) - Date.now() / 1000)).toBeLessThan(60);
      expect((await me(accessToken)).status).toBe(200);
    });

    it('are refused when missing, with a Bearer challenge', async () => {
      const res = await call(t, 'GET', '/members/me');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="kakao-auth"');
    });

    it.each([
      ['no scheme', (tk: string) => tk],
      ['another scheme', (tk: string) => `Basic ${tk}`],
      ['an empty bearer', () => 'Bearer '],
      ['two tokens', (tk: string) => `Bearer ${tk} ${tk}`],
      ['two segments', (tk: string) => `Bearer ${tk.split('.').slice(0, 2).join('.')}`],
      ['four segments', (tk: string) => `Bearer ${tk}.abc`],
      ['bad base64url', (tk: string) => `Bearer !!!.${tk.split('.')[1]}.${tk.split('.')[2]}`],
      [
        'a non-JSON header',
        (tk: string) => `Bearer ${Buffer.from('nope').toString('base64url')}.${tk.split('.').slice(1).join('.')}`,
      ],
    ])('refuses a malformed Authorization header: %s', async (_, make) => {
      const { accessToken } = await signup(t);
      const res = await call(t, 'GET', '/members/me', { headers: { authorization: make(accessToken) } });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });

    it('refuses a tampered payload', async () => {
      const { accessToken } = await signup(t);
      const [h, , s] = accessToken.split('.');
      const payload = { ...decodeJwt(accessToken).payload, sub: '00000000-0000-4000-8000-000000000000' };
      const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
      expect((await me(tampered)).body.code).toBe('UNAUTHENTICATED');
    });

    it('refuses alg none, another HMAC and RS256 (an id_token look-alike)', async () => {
      const { accessToken } = await signup(t);
      const { payload } = decodeJwt(accessToken);
      const none = new UnsecuredJWT(payload).encode();
      expect((await me(none)).status).toBe(401);
      const noneWithKid = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: keyId(SECRET) })).toString('base64url')}.${accessToken.split('.')[1]}.`;
      expect((await me(noneWithKid)).status).toBe(401);
      expect((await me(forge(accessToken, { alg: 'HS512' }))).status).toBe(401);
      expect((await me(forge(accessToken, { alg: 'hs256' }))).status).toBe(401);
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      const rs = await new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: keyId(SECRET) })
        .sign(privateKey);
      expect((await me(rs)).status).toBe(401);
      // HS256 "signed" with a public key as the secret (RFC 8725 2.1).
      const jwk = JSON.stringify(await exportJWK(publicKey));
      expect((await me(forge(accessToken, { secret: jwk, kid: keyId(SECRET) }))).status).toBe(401);
    });

    it('refuses a token of another type (an id_token is typ JWT) even when signed with our key', async () => {
      const { accessToken } = await signup(t);
      expect((await me(forge(accessToken, { typ: 'JWT' }))).status).toBe(401);
      expect((await me(forge(accessToken))).status).toBe(200);
    });

    it('refuses a refresh token presented as an access token', async () => {
      const { refreshToken } = await signup(t);
      expect((await me(refreshToken)).body.code).toBe('UNAUTHENTICATED');
    });

    // Signed with our key, so only a leaked key or a bug could make them; still never a 500 or a pass.
    it('refuses what issue() never makes: a crit header, non-UUID ids, a future iat or auth_time, no amr', async () => {
      const { accessToken } = await signup(t);
      const now = Math.floor(Date.now() / 1000);
      const introspect = (token: string) =>
        call(t, 'POST', '/auth/introspect', {
          headers: { authorization: basic(CLIENT.name, CLIENT.secret) },
          body: { token },
        });
      const variants: Record<string, string> = {
        crit: forge(accessToken, { header: { crit: ['exp'] } }),
        subNotUuid: forge(accessToken, { claims: { sub: 'not-a-uuid' } }),
        sidNotUuid: forge(accessToken, { claims: { sid: "1' OR '1'='1" } }),
        iatInFuture: forge(accessToken, { claims: { iat: now + 365 * 86400 } }),
        authTimeInFuture: forge(accessToken, { claims: { auth_time: now + 365 * 86400 } }),
        noAmr: forge(accessToken, { claims: { amr: [] } }),
        // An auth_time no Date can hold would have passed the withdrawal's recent-login check.
        authTimeOutOfRange: forge(accessToken, { claims: { auth_time: -1e13 } }),
        endlessExp: forge(accessToken, { claims: { iat: -1e20, exp: 1e308 } }),
        fractionalIat: forge(accessToken, { claims: { iat: now - 0.5 } }),
        expBeforeIat: forge(accessToken, { claims: { iat: now + 30, exp: now + 20 } }),
      };
      for (const [name, token] of Object.entries(variants)) {
        const res = await me(token);
        expect({ name, status: res.status, code: res.body.code }).toEqual({
          name,
          status: 401,
          code: 'UNAUTHENTICATED',
        });
        const introspection = await introspect(token);
        expect({ name, status: introspection.status, body: introspection.body }).toEqual({
          name,
          status: 200,
          body: { active: false },
        });
      }
      // A little clock skew between instances is not a forgery.
      expect((await me(forge(accessToken, { claims: { iat: now + 20 } }))).status).toBe(200);
    });

    it('checks iss and aud', async () => {
      const { accessToken } = await signup(t);
      expect((await me(forge(accessToken, { claims: { iss: 'https://evil.example' } }))).status).toBe(401);
      expect((await me(forge(accessToken, { claims: { aud: 'other-service' } }))).status).toBe(401);
    });

    it('says TOKEN_EXPIRED once past exp, with no leeway, and introspects the token as inactive', async () => {
      const { accessToken } = await signup(t);
      const now = Math.floor(Date.now() / 1000);
      const expired = forge(accessToken, { claims: { iat: now - 1000, exp: now - 2 } });
      expect((await me(expired)).body.code).toBe('TOKEN_EXPIRED');
      const introspection = await call(t, 'POST', '/auth/introspect', {
        headers: { authorization: basic(CLIENT.name, CLIENT.secret) },
        body: { token: expired },
      });
      expect(introspection.body).toEqual({ active: false });
      const live = forge(accessToken, { claims: { iat: now - 1000, exp: now + 30 } });
      expect((await me(live)).status).toBe(200);
    });

    it('verifies with a previous secret, never signs with it, and refuses an unknown kid', async () => {
      const { accessToken } = await signup(t);
      expect(decodeJwt(accessToken).header.kid).toBe(keyId(SECRET));
      expect((await me(forge(accessToken, { secret: PREVIOUS }))).status).toBe(200);
      const stranger = randomBytes(48).toString('base64url');
      expect((await me(forge(accessToken, { secret: stranger }))).status).toBe(401);
      // A kid naming the current key does not make the previous key's signature acceptable, nor the reverse.
      expect((await me(forge(accessToken, { secret: PREVIOUS, kid: keyId(SECRET) }))).status).toBe(401);
      expect((await me(forge(accessToken, { kid: keyId(PREVIOUS) }))).status).toBe(401);
      expect((await me(forge(accessToken, { kid: '../../etc/passwd' }))).status).toBe(401);
    });
  });

  describe('refresh', () => {
    const refresh = (refreshToken: unknown) => call(t, 'POST', '/auth/refresh', { body: { refreshToken } });

    it('spends the token and issues a new pair of the same session', async () => {
      const { accessToken, refreshToken } = await signup(t);
      const res = await refresh(refreshToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        tokenType: 'Bearer',
        expiresIn: 600,
      });
      expect(res.body.refreshToken).not.toBe(refreshToken);
      expect(decodeJwt(res.body.accessToken).payload.sid).toBe(decodeJwt(accessToken).payload.sid);
      expect((await me(res.body.accessToken)).status).toBe(200);
      const stored = await t.db.query(
        `SELECT count(*)::int AS n FROM refresh_tokens WHERE token_hash = sha256($1::bytea)`,
        [Buffer.from(res.body.refreshToken)],
      );
      expect(stored.rows[0].n).toBe(1);
      const plain = await t.db.query(
        `SELECT count(*)::int AS n FROM refresh_tokens WHERE encode(token_hash, 'escape') LIKE $1`,
        [`%${res.body.refreshToken}%`],
      );
      expect(plain.rows[0].n).toBe(0);
    });

    it('revokes the whole family when a spent token comes back, and audits it', async () => {
      const { accessToken, refreshToken, outcome } = await signup(t);
      const first = await refresh(refreshToken);
      expect(first.status).toBe(200);
      const replay = await refresh(refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('REFRESH_TOKEN_REUSED');
      // Every token of the family is dead: the successor, and the access tokens of the session.
      expect((await refresh(first.body.refreshToken)).status).toBe(401);
      expect((await me(first.body.accessToken)).status).toBe(401);
      expect((await me(accessToken)).status).toBe(401);
      const audit = await t.db.query(
        `SELECT type, data FROM audit_events WHERE member_id = $1 AND type = 'session.refresh_reused'`,
        [outcome.member.id],
      );
      expect(audit.rows).toHaveLength(1);
      expect(JSON.stringify(audit.rows[0].data)).not.toContain('@');
    });

    it('lets exactly one of ten parallel refreshes of one token through, and keeps its successor alive', async () => {
      for (let round = 0; round < 5; round++) {
        const { refreshToken } = await signup(t);
        // Hold the token's row so that all ten requests are inside the service, at the database, at once:
        // on two shared cores they would otherwise trickle in one after the other.
        const lock = await connect(t.databaseUrl);
        await lock.query('BEGIN');
        await lock.query(`SELECT 1 FROM refresh_tokens WHERE token_hash = sha256($1::bytea) FOR UPDATE`, [
          Buffer.from(refreshToken),
        ]);
        const pending = burst(`${t.url}/auth/refresh`, 10, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken }),
        });
        await waitFor(async () => {
          const waiting = await t.db.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%spent AS%'`,
          );
          return waiting.rows[0].n === 10;
        });
        await lock.query('COMMIT');
        await lock.end();
        const results = await pending;
        const ok = results.filter((r) => r.status === 200);
        expect(ok).toHaveLength(1);
        expect(results.filter((r) => r.status === 401)).toHaveLength(9);
        expect(results.every((r) => r.status < 500)).toBe(true);
        const next = await refresh(ok[0].body.refreshToken);
        expect(next.status).toBe(200);
        expect((await me(next.body.accessToken)).status).toBe(200);
      }
    });

    it('refuses unknown, malformed, idle-expired and absolutely expired tokens', async () => {
      expect((await refresh(randomBytes(32).toString('base64url'))).body.code).toBe('REFRESH_TOKEN_INVALID');
      expect((await refresh('short')).body.code).toBe('REFRESH_TOKEN_INVALID');
      expect((await refresh(123)).body.code).toBe('VALIDATION_FAILED');

      const idle = await signup(t);
      await t.db.query(
        `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = sha256($1::bytea)`,
        [Buffer.from(idle.refreshToken)],
      );
      expect((await refresh(idle.refreshToken)).body.code).toBe('REFRESH_TOKEN_INVALID');

      const absolute = await signup(t);
      await t.db.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        decodeJwt(absolute.accessToken).payload.sid,
      ]);
      expect((await refresh(absolute.refreshToken)).body.code).toBe('REFRESH_TOKEN_INVALID');
    });

    it('never lets a refresh token outlive its session', async () => {
      const { refreshToken, accessToken } = await signup(t);
      const next = await refresh(refreshToken);
      const rows = await t.db.query(
        `SELECT t.expires_at <= s.expires_at AS bounded FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.id = $1`,
        [decodeJwt(accessToken).payload.sid],
      );
      expect(next.status).toBe(200);
      expect(rows.rows.every((r: { bounded: boolean }) => r.bounded)).toBe(true);
    });
  });

  describe('logout', () => {
    const logout = (token: string | undefined, body: Record<string, unknown> = {}) =>
      call(t, 'POST', '/auth/logout', { token, body });

    it('revokes the session: its access and refresh tokens stop working; a second logout is still 204', async () => {
      const { accessToken, refreshToken, outcome } = await signup(t);
      expect((await logout(accessToken)).status).toBe(204);
      expect((await me(accessToken)).status).toBe(401);
      expect((await call(t, 'POST', '/auth/refresh', { body: { refreshToken } })).body.code).toBe(
        'REFRESH_TOKEN_INVALID',
      );
      expect((await logout(accessToken)).status).toBe(204);
      const audit = await t.db.query(
        `SELECT count(*)::int AS n FROM audit_events WHERE member_id = $1 AND type = 'session.logged_out'`,
        [outcome.member.id],
      );
      expect(audit.rows[0].n).toBe(2);
    });

    it('ends only its own session, or every session with everywhere: true', async () => {
      const a = await signup(t);
      const second = await call(t, 'POST', '/auth/login', { body: { email: a.email, password: a.password } });
      const third = await call(t, 'POST', '/auth/login', { body: { email: a.email, password: a.password } });
      expect((await logout(a.accessToken)).status).toBe(204);
      expect((await me(second.body.tokens.accessToken)).status).toBe(200);
      expect((await logout(second.body.tokens.accessToken, { everywhere: true })).status).toBe(204);
      expect((await me(third.body.tokens.accessToken)).status).toBe(401);
    });

    it('accepts a refresh token alone, and answers 204 for an unknown one', async () => {
      const { accessToken, refreshToken } = await signup(t);
      expect((await logout(undefined, { refreshToken })).status).toBe(204);
      expect((await me(accessToken)).status).toBe(401);
      expect((await logout(undefined, { refreshToken: randomBytes(32).toString('base64url') })).status).toBe(204);
    });

    it('ends every session with everywhere and a live refresh token alone, never with a spent one', async () => {
      const a = await signup(t);
      const login = () => call(t, 'POST', '/auth/login', { body: { email: a.email, password: a.password } });
      const second = await login();
      const third = await login();
      expect((await call(t, 'POST', '/auth/refresh', { body: { refreshToken: a.refreshToken } })).status).toBe(200);
      // The spent token names the member but proves nothing: the other sessions stay.
      expect((await logout(undefined, { refreshToken: a.refreshToken, everywhere: true })).status).toBe(204);
      expect((await me(third.body.tokens.accessToken)).status).toBe(200);
      // Nor does one past its idle or absolute expiry: it could not be refreshed either.
      const fourth = await login();
      const idle = fourth.body.tokens.refreshToken as string;
      await t.db.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [
        createHash('sha256').update(idle).digest(),
      ]);
      expect((await call(t, 'POST', '/auth/refresh', { body: { refreshToken: idle } })).status).toBe(401);
      expect((await logout(undefined, { refreshToken: idle, everywhere: true })).status).toBe(204);
      expect((await me(third.body.tokens.accessToken)).status).toBe(200);
      const live = second.body.tokens.refreshToken as string;
      expect((await logout(undefined, { refreshToken: live, everywhere: true })).status).toBe(204);
      expect((await me(third.body.tokens.accessToken)).status).toBe(401);
    });

    it('falls back to the refresh token when the access token has expired', async () => {
      const { accessToken, refreshToken } = await signup(t);
      const now = Math.floor(Date.now() / 1000);
      const expired = forge(accessToken, { claims: { iat: now - 1000, exp: now - 10 } });
      expect((await logout(expired)).status).toBe(401);
      expect((await logout('not.a.token', { refreshToken })).status).toBe(401);
      expect((await logout(expired, { refreshToken })).status).toBe(204);
      expect((await call(t, 'POST', '/auth/refresh', { body: { refreshToken } })).status).toBe(401);
    });

    it('needs some proof of who logs out', async () => {
      expect((await logout(undefined)).status).toBe(401);
      expect((await logout('not.a.token')).status).toBe(401);
    });
  });

  describe('service-to-service', () => {
    const introspect = (token: unknown, authorization?: string) =>
      call(t, 'POST', '/auth/introspect', { body: { token }, headers: authorization ? { authorization } : {} });

    it("takes RFC 7662's token_type_hint, as JSON or as a form, and answers any length of garbage as inactive", async () => {
      const { accessToken } = await signup(t);
      const authorization = basic(CLIENT.name, CLIENT.secret);
      const hinted = await call(t, 'POST', '/auth/introspect', {
        body: { token: accessToken, token_type_hint: 'access_token' },
        headers: { authorization },
      });
      expect(hinted.body).toMatchObject({ active: true });
      const form = await fetch(`${t.url}/auth/introspect`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: accessToken, token_type_hint: 'refresh_token' }).toString(),
      });
      expect(((await form.json()) as { active: boolean }).active).toBe(true);
      expect((await introspect('x'.repeat(10_000), authorization)).body).toEqual({ active: false });
    });

    it('introspects a live token RFC 7662 style, and anything else as inactive', async () => {
      const { accessToken, outcome } = await signup(t);
      const res = await introspect(accessToken, basic(CLIENT.name, CLIENT.secret));
      expect(res.status).toBe(200);
      const { payload } = decodeJwt(accessToken);
      expect(res.body).toMatchObject({
        active: true,
        sub: outcome.member.id,
        exp: payload.exp,
        iat: payload.iat,
        iss: payload.iss,
        aud: payload.aud,
        jti: payload.jti,
        memberStatus: 'active',
      });
      expect((await introspect('garbage', basic(CLIENT.name, CLIENT.secret))).body).toEqual({ active: false });
      await call(t, 'POST', '/auth/logout', { token: accessToken, body: {} });
      expect((await introspect(accessToken, basic(CLIENT.name, CLIENT.secret))).body).toEqual({ active: false });
    });

    it('requires the HTTP Basic credentials of a listed client', async () => {
      const { accessToken } = await signup(t);
      for (const authorization of [
        undefined,
        basic(CLIENT.name, 'wrong'),
        basic(CLIENT.name, `${CLIENT.secret} `),
        basic('billing', CLIENT.secret),
        basic('nobody', CLIENT.secret),
        `Bearer ${accessToken}`,
        'Basic',
        'Basic !!!',
      ]) {
        const res = await introspect(accessToken, authorization);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('SERVICE_UNAUTHORIZED');
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="kakao-auth"');
      }
      expect((await introspect(accessToken, basic('billing', 'other-secret-abcdef'))).status).toBe(200);
    });

    it('serves a member by id to listed clients only', async () => {
      const { accessToken, outcome } = await signup(t);
      const auth = { authorization: basic(CLIENT.name, CLIENT.secret) };
      const res = await call(t, 'GET', `/members/${outcome.member.id}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(outcome.member);
      expect((await call(t, 'GET', `/members/${outcome.member.id}`, { token: accessToken })).body.code).toBe(
        'SERVICE_UNAUTHORIZED',
      );
      expect((await call(t, 'GET', '/members/not-a-uuid', { headers: auth })).body.code).toBe('NOT_FOUND');
      expect((await call(t, 'GET', '/members/7d0c1c64-6a49-4b7e-a1f0-0d7c9b0b4c11', { headers: auth })).body.code).toBe(
        'NOT_FOUND',
      );
    });
  });
});
