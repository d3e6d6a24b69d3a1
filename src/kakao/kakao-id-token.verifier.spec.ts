import { exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { JWKS_UNKNOWN_KID_FLOOR_MS, KakaoIdTokenVerifier } from './kakao-id-token.verifier';
import { KakaoClient } from './kakao.client';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/**
 * The id_token checks of the OpenID RP conformance plan (rp-id_token-*, rp-nonce-invalid,
 * rp-key-rotation-op-sign-key) against a JWKS served over real HTTP.
 */
describe('KakaoIdTokenVerifier', () => {
  const ISSUER = 'https://kauth.kakao.com';
  const AUD = 'rest-api-key';
  let server: Server;
  let jwks: { keys: JWK[] };
  let jwksCalls = 0;
  let jwksDown = false;
  let keyA: Key;
  let keyB: Key;
  let verifier: KakaoIdTokenVerifier;

  let pubA: JWK;
  let pubB: JWK;

  async function sign(
    claims: Record<string, unknown>,
    options: { key?: Key; kid?: string | null; alg?: string; typ?: string | null } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const header: Record<string, unknown> = { alg: options.alg ?? 'RS256' };
    if (options.typ !== null) header.typ = options.typ ?? 'JWT';
    if (options.kid !== null) header.kid = options.kid ?? 'kid-a';
    return new SignJWT({
      iss: ISSUER,
      aud: AUD,
      sub: '1376016924429759243',
      iat: now,
      exp: now + 3600,
      auth_time: now,
      ...claims,
    })
      .setProtectedHeader(header as { alg: string })
      .sign(options.key ?? keyA);
  }

  beforeAll(async () => {
    // The client logs each call at debug level; outside Nest that would go to the console.
    Logger.overrideLogger(false);
    const a = await generateKeyPair('RS256', { extractable: true });
    const b = await generateKeyPair('RS256', { extractable: true });
    keyA = a.privateKey;
    keyB = b.privateKey;
    pubA = { ...(await exportJWK(a.publicKey)), kid: 'kid-a', alg: 'RS256', use: 'sig' };
    pubB = { ...(await exportJWK(b.publicKey)), kid: 'kid-b', alg: 'RS256', use: 'sig' };
    server = createServer((_req, res) => {
      jwksCalls++;
      if (jwksDown) {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  beforeEach(() => {
    jwks = { keys: [pubA] };
    jwksCalls = 0;
    jwksDown = false;
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = {
      kakao: {
        authBaseUrl: base,
        apiBaseUrl: base,
        issuer: ISSUER,
        restApiKey: AUD,
        extraAudiences: ['native-key'],
        httpTimeoutMs: 2000,
        adminKey: 'x',
      },
    } as unknown as AppConfig;
    verifier = new KakaoIdTokenVerifier(new KakaoClient(config), config);
  });

  const reason = async (token: string, options?: Parameters<KakaoIdTokenVerifier['verify']>[1]) => {
    try {
      await verifier.verify(token, options);
      return 'accepted';
    } catch (err) {
      return (err as { code?: string; details?: { reason?: string } }).code ?? 'error';
    }
  };

  /** The refusal's `details.reason` (the check that failed), or `accepted`. */
  const refusedFor = async (token: string, options?: Parameters<KakaoIdTokenVerifier['verify']>[1]) => {
    try {
      await verifier.verify(token, options);
      return 'accepted';
    } catch (err) {
      const e = err as { code?: string; details?: { reason?: string } };
      return `${e.code}:${e.details?.reason}`;
    }
  };

  it('azp, when present, must be one of the app keys (OIDC Core 3.1.3.7 (5))', async () => {
    expect(await refusedFor(await sign({ azp: AUD }))).toBe('accepted');
    expect(await refusedFor(await sign({ azp: 'native-key' }))).toBe('accepted');
    expect(await refusedFor(await sign({ azp: 'another-app' }))).toBe('ID_TOKEN_INVALID:azp');
    expect(await refusedFor(await sign({ azp: '' }))).toBe('ID_TOKEN_INVALID:azp');
    expect(await refusedFor(await sign({ azp: [AUD] }))).toBe('ID_TOKEN_INVALID:azp');
    expect(await refusedFor(await sign({ azp: null }))).toBe('ID_TOKEN_INVALID:azp');
  });

  it('typ, when present, must be JWT: another kind of JWT signed by Kakao is no id_token (RFC 8725 3.11)', async () => {
    for (const typ of ['JWT', 'jwt', 'Jwt', 'application/jwt', 'application/JWT']) {
      expect(await refusedFor(await sign({}, { typ }))).toBe('accepted');
    }
    expect(await refusedFor(await sign({}, { typ: null }))).toBe('accepted');
    for (const typ of ['secevent+jwt', 'at+jwt', 'application/secevent+jwt', 'JOSE', 'JWS', '']) {
      expect({ typ, refused: await refusedFor(await sign({}, { typ })) }).toEqual({
        typ,
        refused: 'ID_TOKEN_INVALID:typ',
      });
    }
  });

  it('accepts a valid token and returns its claims (rp-response_type-code)', async () => {
    const claims = await verifier.verify(await sign({ nonce: 'n1' }), { nonce: 'n1' });
    expect(claims.sub).toBe('1376016924429759243');
  });

  it('rp-id_token-issuer-mismatch', async () => {
    expect(await reason(await sign({ iss: 'https://evil.example' }))).toBe('ID_TOKEN_INVALID');
  });

  it('rp-id_token-aud', async () => {
    expect(await reason(await sign({ aud: 'another-app' }))).toBe('ID_TOKEN_INVALID');
    expect(await reason(await sign({ aud: [AUD, 'another-app'] }))).toBe('ID_TOKEN_INVALID');
    await expect(
      verifier.verify(await sign({ aud: 'native-key' }), { audiences: [AUD, 'native-key'] }),
    ).resolves.toBeTruthy();
  });

  it('rp-id_token-sub: missing or non-numeric sub', async () => {
    expect(await reason(await sign({ sub: undefined }))).toBe('ID_TOKEN_INVALID');
    expect(await reason(await sign({ sub: 'abc' }))).toBe('ID_TOKEN_INVALID');
  });

  it('rp-id_token-iat: missing, or in the future beyond the skew', async () => {
    expect(await reason(await sign({ iat: undefined }))).toBe('ID_TOKEN_INVALID');
    expect(await reason(await sign({ iat: Math.floor(Date.now() / 1000) + 600 }))).toBe('ID_TOKEN_INVALID');
  });

  it('refuses an expired token, also one expired seconds ago (no minute of grace on exp)', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await reason(await sign({ iat: now - 7200, exp: now - 3600 }))).toBe('ID_TOKEN_INVALID');
    expect(await reason(await sign({ iat: now - 7200, exp: now - 30 }))).toBe('ID_TOKEN_INVALID');
  });

  it('allows a fresh token whose iat is ahead of our clock by less than a minute (Kakao’s clock ahead)', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await reason(await sign({ iat: now + 30, exp: now + 3600 }))).toBe('accepted');
  });

  it('refuses a token issued more than a day ago, whatever its exp', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await reason(await sign({ iat: now - 25 * 3600, exp: now + 3600 }))).toBe('ID_TOKEN_INVALID');
    expect(await reason(await sign({ iat: now - 23 * 3600, exp: now + 3600 }))).toBe('accepted');
  });

  it('rp-nonce-invalid', async () => {
    expect(await reason(await sign({ nonce: 'other' }), { nonce: 'n1' })).toBe('ID_TOKEN_INVALID');
    expect(await reason(await sign({}), { nonce: 'n1' })).toBe('ID_TOKEN_INVALID');
  });

  it('refuses a token carrying a nonce its caller does not present, and takes one without from a caller without', async () => {
    expect(await reason(await sign({ nonce: 'n1' }))).toBe('ID_TOKEN_INVALID');
    expect(await reason(await sign({ nonce: 'n1' }), { nonce: 'n1' })).toBe('accepted');
    expect(await reason(await sign({}))).toBe('accepted');
  });

  it('rp-id_token-sig-none and other algorithms', async () => {
    const unsigned = (await sign({})).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'kid-a' })).toString('base64url')}.${unsigned[1]}.`;
    expect(await reason(none)).toBe('ID_TOKEN_INVALID');
    // HS256 keyed with the public key (RFC 8725 2.1).
    const pub = JSON.stringify(jwks.keys[0]);
    const hs = await new SignJWT({ iss: ISSUER, aud: AUD, sub: '1', iat: 1, exp: 9e9 })
      .setProtectedHeader({ alg: 'HS256', kid: 'kid-a' })
      .sign(Buffer.from(pub));
    expect(await reason(hs)).toBe('ID_TOKEN_INVALID');
  });

  it('rp-id_token-bad-sig-rs256', async () => {
    const token = (await sign({})).split('.');
    const tampered = `${token[0]}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUD, sub: '2', iat: 1, exp: 9e9 })).toString('base64url')}.${token[2]}`;
    expect(await reason(tampered)).toBe('ID_TOKEN_INVALID');
    expect(await reason(await sign({}, { key: keyB }))).toBe('ID_TOKEN_INVALID');
  });

  it('rp-id_token-kid-absent-single-jwks: the only key is used', async () => {
    expect(await reason(await sign({}, { kid: null }))).toBe('accepted');
  });

  it('rp-id_token-kid-absent-multiple-jwks: refused', async () => {
    jwks = { keys: [pubA, pubB] };
    expect(await reason(await sign({}, { kid: null }))).toBe('ID_TOKEN_INVALID');
  });

  it('rp-key-rotation-op-sign-key: a new kid triggers one refetch, then is cached', async () => {
    expect(await reason(await sign({}))).toBe('accepted');
    expect(jwksCalls).toBe(1);
    jwks = { keys: [pubA, pubB] };
    expect(await reason(await sign({}, { key: keyB, kid: 'kid-b' }))).toBe('accepted');
    expect(jwksCalls).toBe(2);
    expect(await reason(await sign({}, { key: keyB, kid: 'kid-b' }))).toBe('accepted');
    expect(jwksCalls).toBe(2);
  });

  it('many concurrent tokens with forged kids share one refetch and are all refused', async () => {
    expect(await reason(await sign({}))).toBe('accepted');
    // A forged kid spends the floor: the burst below has to wait for the next refetch.
    expect(await refusedFor(await sign({}, { kid: 'forged' }))).toBe('ID_TOKEN_INVALID:ERR_JWKS_NO_MATCHING_KEY');
    expect(jwksCalls).toBe(2);
    const burst = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => refusedFor(await sign({}, { kid: `forged-${i}` }))),
    );
    expect(new Set(burst)).toEqual(new Set(['ID_TOKEN_INVALID:ERR_JWKS_NO_MATCHING_KEY']));
    expect(jwksCalls).toBe(3);
  });

  it('a rotation right after a forged kid spent the floor: the new kid waits for the next refetch and is accepted', async () => {
    expect(await reason(await sign({}))).toBe('accepted');
    expect(await reason(await sign({}, { kid: 'forged' }))).toBe('ID_TOKEN_INVALID');
    expect(jwksCalls).toBe(2);
    jwks = { keys: [pubA, pubB] }; // Kakao rotates
    // The genuine token and another forged one wait together for one refetch.
    const [rotated, forged] = await Promise.all([
      refusedFor(await sign({}, { key: keyB, kid: 'kid-b' })),
      refusedFor(await sign({}, { kid: 'forged-again' })),
    ]);
    expect({ rotated, forged }).toEqual({ rotated: 'accepted', forged: 'ID_TOKEN_INVALID:ERR_JWKS_NO_MATCHING_KEY' });
    expect(jwksCalls).toBe(3);
    // Learnt once, the new key is cached.
    expect(await reason(await sign({}, { key: keyB, kid: 'kid-b' }))).toBe('accepted');
    expect(jwksCalls).toBe(3);
  });

  it('sequential forged kids each wait for their own refetch, at most one per floor', async () => {
    expect(await reason(await sign({}))).toBe('accepted');
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
      expect(await refusedFor(await sign({}, { kid: `forged-${i}` }))).toBe(
        'ID_TOKEN_INVALID:ERR_JWKS_NO_MATCHING_KEY',
      );
    }
    const refetches = jwksCalls - 1;
    expect(refetches).toBe(3);
    expect(refetches).toBeLessThanOrEqual(Math.floor((Date.now() - started) / JWKS_UNKNOWN_KID_FLOOR_MS) + 1);
  });

  it('fails closed with a cold cache and Kakao down, and keeps working on a warm cache', async () => {
    jwksDown = true;
    expect(await reason(await sign({}))).toBe('KAKAO_UNAVAILABLE');
    jwksDown = false;
    expect(await reason(await sign({}))).toBe('accepted');
    jwksDown = true;
    expect(await reason(await sign({}))).toBe('accepted');
    // An unknown kid's refetch fails: the cached keys stay, and the token is refused as unknown.
    expect(await refusedFor(await sign({}, { kid: 'kid-c' }))).toBe('ID_TOKEN_INVALID:ERR_JWKS_NO_MATCHING_KEY');
    expect(await reason(await sign({}))).toBe('accepted');
  });
});
