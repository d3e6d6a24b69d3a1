/* eslint-disable @typescript-eslint/no-explicit-any -- assertions read JSON bodies freely */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createHash, createHmac, createPublicKey, randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IdTokenFault, Persona } from '../../emulator/types';
import { JWKS_UNKNOWN_KID_FLOOR_MS } from '../../src/kakao/kakao-id-token.verifier';
import { json, startTestApp, waitForLogs } from '../support/app';
import { call, decodeJwt } from '../support/http';
import { APP_ID, browserLogin, KakaoTestBed, REST_API_KEY, startWithKakao } from '../support/kakao';

/**
 * The OpenID Foundation's relying-party test plan (https://openid.net/certification/rp_testing/; test ids as in
 * its "Basic RP" profile), played against the Kakao emulator as the OP: each `rp-…` test makes the emulator
 * misbehave the way the plan's OP does and walks the redirect flow (/auth/kakao/login → Kakao → callback),
 * then checks the service's answer and that nothing was written. Kakao signs with RS256 only
 * (KAKAO_API.md 3: `id_token_signing_alg_values_supported: ["RS256"]`), so the service pins RS256; where the
 * plan lets the RP choose, the choice is named in the test.
 *
 * Then the attacks of RFC 8725 (JWT Best Current Practices) on the one place an attacker hands us an id_token
 * directly: POST /auth/kakao/native, with a genuine Kakao access token and a forged id_token.
 */
describe('OpenID RP conformance and RFC 8725 attacks (Kakao emulator as the OP)', () => {
  const JWKS_PATH = '/.well-known/jwks.json';
  const NATIVE_KEY = 'test-native-app-key';
  let bed: KakaoTestBed;

  beforeAll(async () => {
    // Fixed secrets, so the service can be restarted on the same database (a cold JWKS cache).
    bed = await startWithKakao({
      env: {
        JWT_SECRET: randomBytes(48).toString('base64url'),
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        LOG_LEVEL: 'warn',
      },
    });
  });
  afterAll(() => bed.close());
  afterEach(() => bed.kakao.clearFaults());

  /** A new service on the same database and emulator: nothing cached, in particular not Kakao's JWKS. */
  async function restartService(): Promise<void> {
    const { databaseUrl } = bed.t;
    await bed.t.close();
    bed.t = await startTestApp({ databaseUrl, env: bed.env });
  }

  let seq = 0;
  /** A Kakao account the service has never seen, so "nothing written" can be checked exactly. */
  function newPersona(overrides: Partial<Persona> = {}): string {
    seq += 1;
    const id = `47${String(Date.now()).slice(-8)}${String(seq).padStart(9, '0')}`;
    bed.kakao.addPersona({
      id,
      nickname: `rp${seq}`,
      name: `검증${seq}`,
      email: `rp${seq}.${randomBytes(3).toString('hex')}@kakao.example`,
      isEmailValid: true,
      isEmailVerified: true,
      ...overrides,
    });
    return id;
  }

  const sessions = async () => (await bed.t.db.query('SELECT count(*)::int AS n FROM sessions')).rows[0].n as number;
  const identityOf = async (kakaoId: string) =>
    (await bed.t.db.query('SELECT member_id FROM member_identities WHERE provider_user_id = $1', [kakaoId])).rows;

  /** A redirect-flow login of `kakaoId` whose /oauth/token answer carries the id_token `fault` describes. */
  async function loginWithIdToken(kakaoId: string, fault?: IdTokenFault) {
    if (fault) bed.kakao.injectFault({ path: '/oauth/token', method: 'POST', idToken: fault, times: 1 });
    const { callback } = await browserLogin(bed, { userId: kakaoId });
    return { status: callback.status, body: await json(callback) };
  }

  /** Refused as ID_TOKEN_INVALID (for `reason`, when given), no member and no session for that account. */
  async function expectRefused(
    res: { status: number; body: any },
    kakaoId: string,
    sessionsBefore: number,
    reason?: string,
  ): Promise<void> {
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ID_TOKEN_INVALID' });
    if (reason) expect(res.body.details).toEqual({ reason });
    expect(res.body.tokens).toBeUndefined();
    expect(await identityOf(kakaoId)).toEqual([]);
    expect(await sessions()).toBe(sessionsBefore);
  }

  /** A Kakao account with a genuine native-SDK login: its access token and its genuine id_token's claims. */
  async function victim() {
    const kakaoId = newPersona();
    const tokens = await bed.kakao.issueTokensFor(kakaoId, { clientId: NATIVE_KEY, nonce: 'app-nonce' });
    return { kakaoId, accessToken: tokens.access_token, genuine: tokens.id_token!, ...decodeJwt(tokens.id_token!) };
  }

  const native = (accessToken: string, idToken: string) =>
    call(bed.t, 'POST', '/auth/kakao/native', { body: { accessToken, idToken, nonce: 'app-nonce' } });

  describe('OpenID Foundation RP tests (redirect flow)', () => {
    it('rp-response_type-code', async () => {
      // Authorization code flow with state, nonce and PKCE; the code is exchanged at the token endpoint and the
      // id_token verified before the member is created.
      const kakaoId = newPersona();
      const start = await fetch(`${bed.t.url}/auth/kakao/login`, { redirect: 'manual' });
      const q = new URL(start.headers.get('location')!).searchParams;
      expect(q.get('response_type')).toBe('code');
      expect(q.get('client_id')).toBe(REST_API_KEY);
      expect(q.get('scope')!.split(' ')).toContain('openid');
      expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get('code_challenge_method')).toBe('S256');

      const login = await browserLogin(bed, { userId: kakaoId });
      expect(login.callback.status).toBe(200);
      const body = await json(login.callback);
      expect(body.result).toBe('SIGNED_UP');
      expect(body.member.identities).toEqual([expect.objectContaining({ provider: 'kakao', providerUserId: kakaoId })]);
      expect(body.tokens.accessToken).toEqual(expect.any(String));

      const exchange = bed.kakao.requests({ method: 'POST', path: '/oauth/token' }).at(-1)!.body as any;
      const code = login.kakaoRedirect.searchParams.get('code');
      expect(exchange).toMatchObject({ grant_type: 'authorization_code', code, client_id: REST_API_KEY });
      const authorize = bed.kakao.requests({ method: 'GET', path: '/oauth/authorize' }).at(-1)!.query as any;
      expect(authorize.response_type).toBe('code');
      expect(createHash('sha256').update(exchange.code_verifier).digest('base64url')).toBe(authorize.code_challenge);
    });

    it('rp-id_token-issuer-mismatch', async () => {
      // iss must equal KAKAO_ISSUER exactly: another issuer, and Kakao's own with a trailing slash, are refused.
      for (const iss of ['https://example.com/', `${bed.kakao.issuer}/`]) {
        const kakaoId = newPersona();
        const before = await sessions();
        const res = await loginWithIdToken(kakaoId, { claims: { iss } });
        await expectRefused(res, kakaoId, before, 'iss');
      }
      // Kakao's own token refused is a configuration problem (KAKAO_ISSUER): the operator is told, at warn.
      const warned = await waitForLogs(bed.t, (l) => l.level === 40 && String(l.msg).includes('check KAKAO_ISSUER'), 2);
      expect(warned).toHaveLength(2);
      expect(warned[0]).toMatchObject({ reason: 'iss', issuer: bed.kakao.issuer });
    });

    it('rp-id_token-sub', async () => {
      // An id_token without sub is refused.
      const kakaoId = newPersona();
      const before = await sessions();
      const res = await loginWithIdToken(kakaoId, { claims: { sub: null } });
      await expectRefused(res, kakaoId, before, 'sub');
    });

    it('rp-id_token-aud', async () => {
      // aud must be our REST API key: another app's key is refused, and so are several audiences (Kakao
      // issues one; the service does not accept an azp-style multi-audience token).
      for (const aud of ['another-kakao-app-key', [REST_API_KEY, 'another-kakao-app-key']]) {
        const kakaoId = newPersona();
        const before = await sessions();
        const res = await loginWithIdToken(kakaoId, { claims: { aud } });
        await expectRefused(res, kakaoId, before, 'aud');
      }
    });

    it('rp-id_token-iat', async () => {
      // An id_token without iat is refused; so is one issued beyond the 60 s clock skew in the future.
      const missing = newPersona();
      let before = await sessions();
      await expectRefused(await loginWithIdToken(missing, { claims: { iat: null } }), missing, before, 'iat');
      const future = newPersona();
      before = await sessions();
      const iat = Math.floor(Date.now() / 1000) + 600;
      await expectRefused(await loginWithIdToken(future, { claims: { iat } }), future, before, 'iat');
    });

    it('rp-id_token-kid-absent-single-jwks', async () => {
      // Kakao publishes a single key and signs without kid: that one key is used, and the login succeeds.
      const current = bed.kakao.jwks().keys.find((k) => k.kid === bed.kakao.currentKid)!;
      bed.kakao.injectFault({ path: JWKS_PATH, method: 'GET', status: 200, body: { keys: [current] } });
      await restartService();
      const kakaoId = newPersona();
      const res = await loginWithIdToken(kakaoId, { header: { kid: null } });
      expect(res.status).toBe(200);
      expect(res.body.result).toBe('SIGNED_UP');
      expect(await identityOf(kakaoId)).toHaveLength(1);
    });

    it('rp-id_token-kid-absent-multiple-jwks', async () => {
      // Kakao publishes two keys (as it does) and signs without kid. The plan lets the RP either try every key
      // or refuse; the service refuses: Kakao always names the key (KAKAO_API.md 3, verification step 6).
      await restartService();
      expect(bed.kakao.jwks().keys).toHaveLength(2);
      const kakaoId = newPersona();
      const before = await sessions();
      const res = await loginWithIdToken(kakaoId, { header: { kid: null } });
      await expectRefused(res, kakaoId, before, 'ERR_JWKS_MULTIPLE_MATCHING_KEYS');
    });

    it('rp-id_token-sig-none', async () => {
      // An unsecured id_token (alg none). The plan's RP registers `none` and accepts it; Kakao offers RS256 only,
      // so the service pins RS256 and refuses it before looking at any key.
      const kakaoId = newPersona();
      const before = await sessions();
      const res = await loginWithIdToken(kakaoId, { signature: 'none' });
      await expectRefused(res, kakaoId, before, 'ERR_JOSE_ALG_NOT_ALLOWED');
    });

    it('rp-id_token-bad-sig-rs256', async () => {
      // RS256 with the right kid, but the signature does not verify.
      const kakaoId = newPersona();
      const before = await sessions();
      const res = await loginWithIdToken(kakaoId, { signature: 'invalid' });
      await expectRefused(res, kakaoId, before, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    });

    it('rp-nonce-invalid', async () => {
      // The id_token must carry the nonce of this login's authorize request: another one, or none, is refused.
      for (const nonce of [randomBytes(32).toString('base64url'), null]) {
        const kakaoId = newPersona();
        const before = await sessions();
        const warnedBefore = bed.t.logs.filter((l) => String(l.msg).includes('check KAKAO_ISSUER')).length;
        const res = await loginWithIdToken(kakaoId, { claims: { nonce } });
        await expectRefused(res, kakaoId, before, 'nonce');
        // A wrong nonce is a code injected from another login, not a configuration problem: no warning.
        expect(bed.t.logs.filter((l) => String(l.msg).includes('check KAKAO_ISSUER'))).toHaveLength(warnedBefore);
      }
    });

    it('rp-key-rotation-op-sign-key', async () => {
      // Kakao starts signing with a new key: its unknown kid makes the service fetch the JWKS again (once), and
      // logins go on without a restart.
      await restartService();
      const jwksFetches = () => bed.kakao.callCount('GET', JWKS_PATH);
      const fetchesAtStart = jwksFetches();
      const first = await loginWithIdToken(newPersona());
      expect(first.status).toBe(200);
      expect(jwksFetches()).toBe(fetchesAtStart + 1);

      const newKid = await bed.kakao.rotateKeys();
      const kakaoId = newPersona();
      const rotated = await loginWithIdToken(kakaoId);
      expect(rotated.status).toBe(200);
      expect(rotated.body.result).toBe('SIGNED_UP');
      expect(jwksFetches()).toBe(fetchesAtStart + 2);
      // (Kakao signs with the new key now.)
      expect(decodeJwt((await bed.kakao.issueTokensFor(kakaoId)).id_token!).header.kid).toBe(newKid);

      // The new key is cached now: the next login does not fetch again.
      expect((await loginWithIdToken(newPersona())).status).toBe(200);
      expect(jwksFetches()).toBe(fetchesAtStart + 2);
    });

    it('rp-userinfo-bad-sub-claim', async () => {
      // Kakao's user info (/v2/user/me, the service's userinfo) answers another account than the id_token's sub:
      // the login is refused and neither account gets a member.
      const kakaoId = newPersona();
      const other = newPersona();
      const otherTokens = await bed.kakao.issueTokensFor(other);
      const otherMe = await fetch(`${bed.kakao.url}/v2/user/me`, {
        headers: { authorization: `Bearer ${otherTokens.access_token}` },
      });
      bed.kakao.injectFault({
        path: '/v2/user/me',
        status: 200,
        body: await otherMe.text(),
        headers: { 'content-type': otherMe.headers.get('content-type')! },
        times: 1,
      });
      const before = await sessions();
      const res = await loginWithIdToken(kakaoId);
      await expectRefused(res, kakaoId, before, 'sub');
      expect(await identityOf(other)).toEqual([]);
    });
  });

  describe('RFC 8725 attacks (POST /auth/kakao/native with a forged id_token)', () => {
    type AttackerKey = Awaited<ReturnType<typeof generateKeyPair>>;
    let attacker: AttackerKey;
    let attackerJwk: Record<string, unknown>;
    /** The attacker's web server: serves its JWKS (jku) and certificate (x5u), and counts who asked. */
    let attackerServer: Server;
    let attackerUrl: string;
    let attackerHits = 0;

    beforeAll(async () => {
      attacker = await generateKeyPair('RS256', { extractable: true });
      attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: 'attacker-key-1', alg: 'RS256', use: 'sig' };
      attackerServer = createServer((_req, res) => {
        attackerHits += 1;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [attackerJwk] }));
      });
      await new Promise<void>((resolve) => attackerServer.listen(0, '127.0.0.1', resolve));
      attackerUrl = `http://127.0.0.1:${(attackerServer.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => attackerServer.close(() => resolve())));

    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    /** Each forged id_token (the genuine claims, attacked header/signature) is refused and writes nothing. */
    async function expectAllRefused(
      forge: (v: Awaited<ReturnType<typeof victim>>) => Promise<Array<[string, string]>> | Array<[string, string]>,
      reason?: (label: string) => string | undefined,
    ) {
      const v = await victim();
      const before = await sessions();
      const forged = await forge(v);
      expect(forged.length).toBeGreaterThan(0);
      for (const [label, token] of forged) {
        const res = await native(v.accessToken, token);
        // The label names the forgery when an assertion fails.
        expect({ label, status: res.status, code: res.body.code }).toEqual({
          label,
          status: 401,
          code: 'ID_TOKEN_INVALID',
        });
        const expected = reason?.(label);
        if (expected) expect({ label, reason: res.body.details?.reason }).toEqual({ label, reason: expected });
      }
      expect(await identityOf(v.kakaoId)).toEqual([]);
      expect(await sessions()).toBe(before);
      // The same account with its genuine id_token logs in: the refusals were the forgeries' doing.
      const genuine = await native(v.accessToken, v.genuine);
      expect(genuine.status).toBe(200);
      expect(genuine.body.member.identities[0].providerUserId).toBe(v.kakaoId);
    }

    it('the native endpoint accepts the genuine token of the same setup (control)', async () => {
      const v = await victim();
      const res = await native(v.accessToken, v.genuine);
      expect(res.status).toBe(200);
      expect(res.body.result).toBe('SIGNED_UP');
      expect(v.payload).toMatchObject({ aud: NATIVE_KEY, sub: v.kakaoId, nonce: 'app-nonce' });
      const info = await fetch(`${bed.kakao.url}/v1/user/access_token_info`, {
        headers: { authorization: `Bearer ${v.accessToken}` },
      });
      expect(((await info.json()) as any).app_id).toBe(Number(APP_ID));
    });

    it('refuses HS256 signed with Kakao’s public key as the HMAC secret (RFC 8725 2.1, 3.1)', async () => {
      await expectAllRefused(
        ({ header, payload }) => {
          const kid = header.kid as string;
          const jwk = bed.kakao.jwks().keys.find((k) => k.kid === kid)!;
          const pub = createPublicKey({ key: jwk as any, format: 'jwk' });
          // The forms a confused verifier may hand to HMAC: PEM (SPKI, PKCS#1), DER, the JWK's JSON, its modulus.
          const secrets: Array<[string, Buffer | string]> = [
            ['spki-pem', pub.export({ type: 'spki', format: 'pem' })],
            ['pkcs1-pem', pub.export({ type: 'pkcs1', format: 'pem' })],
            ['spki-der', pub.export({ type: 'spki', format: 'der' })],
            ['jwk-json', JSON.stringify(jwk)],
            ['modulus', Buffer.from(jwk.n, 'base64url')],
          ];
          return secrets.map(([label, secret]) => {
            const input = `${b64({ kid, typ: 'JWT', alg: 'HS256' })}.${b64(payload)}`;
            return [label, `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`];
          });
        },
        () => 'ERR_JOSE_ALG_NOT_ALLOWED',
      );
    });

    it('refuses alg case tricks: rs256, Rs256, None, nOnE, NONE (RFC 8725 2.1, 3.1)', async () => {
      await expectAllRefused(
        ({ header, payload }) => {
          const kid = header.kid as string;
          const jwk = bed.kakao.jwks().keys.find((k) => k.kid === kid)!;
          const pem = createPublicKey({ key: jwk as any, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
          const forged: Array<[string, string]> = [];
          for (const alg of ['rs256', 'Rs256', 'rS256', 'none', 'None', 'nOnE', 'NONE']) {
            // A verifier that normalised the spelling could land on "no signature" or on HMAC with the public key.
            for (const [variant, h] of [
              ['', { kid, typ: 'JWT', alg }],
              [' without kid', { typ: 'JWT', alg }],
            ] as const) {
              const input = `${b64(h)}.${b64(payload)}`;
              forged.push([`${alg}${variant}, no signature`, `${input}.`]);
              forged.push([
                `${alg}${variant}, HMAC`,
                `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`,
              ]);
            }
          }
          return forged;
        },
        () => 'ERR_JOSE_ALG_NOT_ALLOWED',
      );
    });

    it('ignores jku, x5u and embedded jwk headers: an attacker key advertised there is refused, never fetched', async () => {
      const hitsBefore = attackerHits;
      const jwksFetchesBefore = bed.kakao.callCount('GET', JWKS_PATH);
      const started = Date.now();
      await expectAllRefused(
        async ({ header, payload }) => {
          const kakaoKid = header.kid as string;
          const sign = (h: Record<string, unknown>) =>
            new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...h }).sign(attacker.privateKey);
          const publicJwk = { kty: attackerJwk.kty, n: attackerJwk.n, e: attackerJwk.e };
          return [
            ['jwk, Kakao’s kid', await sign({ kid: kakaoKid, jwk: publicJwk })],
            ['jwk, attacker kid', await sign({ kid: 'attacker-key-1', jwk: publicJwk })],
            ['jwk, no kid', await sign({ jwk: publicJwk })],
            ['jku, Kakao’s kid', await sign({ kid: kakaoKid, jku: `${attackerUrl}/jwks.json` })],
            ['jku, attacker kid', await sign({ kid: 'attacker-key-1', jku: `${attackerUrl}/jwks.json` })],
            ['x5u, Kakao’s kid', await sign({ kid: kakaoKid, x5u: `${attackerUrl}/cert.pem` })],
            ['x5u, attacker kid', await sign({ kid: 'attacker-key-1', x5u: `${attackerUrl}/cert.pem` })],
          ] as Array<[string, string]>;
        },
        // With Kakao's kid, Kakao's key is used and the attacker's signature fails; an unknown kid matches none.
        (label) =>
          label.includes('Kakao’s kid')
            ? 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
            : label.includes('attacker kid')
              ? 'ERR_JWKS_NO_MATCHING_KEY'
              : undefined,
      );
      expect(attackerHits).toBe(hitsBefore);
      // The unknown kid sent Kakao's JWKS to be fetched again, at most once per floor however often it came.
      const floors = Math.floor((Date.now() - started) / JWKS_UNKNOWN_KID_FLOOR_MS);
      expect(bed.kakao.callCount('GET', JWKS_PATH) - jwksFetchesBefore).toBeLessThanOrEqual(floors + 1);
    });

    it('refuses another Kakao JWT presented as an id_token: a Security Event Token (RFC 8725 2.8, 3.12)', async () => {
      // Kakao's signature and issuer, our audience, the right subject; sent without a nonce (which the native
      // endpoint allows). What stops it is the missing exp, left out of SETs for this reason (RFC 8417 4.1).
      const v = await victim();
      const set = await bed.kakao.sendAccountStatusEvent(`${attackerUrl}/set`, { userId: v.kakaoId });
      expect(decodeJwt(set.token).payload).toMatchObject({ iss: bed.kakao.issuer, aud: REST_API_KEY, sub: v.kakaoId });
      const before = await sessions();
      const res = await call(bed.t, 'POST', '/auth/kakao/native', {
        body: { accessToken: v.accessToken, idToken: set.token },
      });
      await expectRefused(res, v.kakaoId, before, 'exp');
    });
  });

  describe('Key rotation seen first in native-SDK id_tokens (POST /auth/kakao/native)', () => {
    it('Kakao rotates twice in a row: a native login with each new key succeeds', async () => {
      // Each new kid sends the service to Kakao's JWKS again. The second comes inside the refetch floor the
      // first spent: it waits for the next refetch instead of being refused.
      const warm = await victim(); // the current keys are cached, whichever tests ran before
      expect((await native(warm.accessToken, warm.genuine)).status).toBe(200);
      const jwksFetches = () => bed.kakao.callCount('GET', JWKS_PATH);
      const fetchesBefore = jwksFetches();
      for (const rotation of [1, 2]) {
        const kid = await bed.kakao.rotateKeys();
        const v = await victim();
        expect(v.header.kid).toBe(kid);
        const res = await native(v.accessToken, v.genuine);
        expect({ rotation, status: res.status, result: res.body.result }).toEqual({
          rotation,
          status: 200,
          result: 'SIGNED_UP',
        });
      }
      expect(jwksFetches() - fetchesBefore).toBe(2);
    });
  });
});
