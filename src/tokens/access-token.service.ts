import { Injectable } from '@nestjs/common';
import { JwtService, TokenExpiredError } from '@nestjs/jwt';
import { createHash, createSecretKey, KeyObject, randomUUID } from 'node:crypto';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';

/** How the person proved who they are (RFC 8176 `amr` values, plus `kakao` for a Kakao login). */
export type AuthMethod = 'pwd' | 'kakao';

export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  sid: string;
  auth_time: number;
  amr: AuthMethod[];
}

export interface AccessTokenInput {
  memberId: string;
  sessionId: string;
  authTime: Date;
  amr: AuthMethod;
}

/** RFC 9068 media type of JWT access tokens; refuses id_tokens and other JWTs presented as access tokens. */
const ACCESS_TOKEN_TYP = 'at+jwt';
/** RFC 8725 3.1: one algorithm, pinned; never taken from the token. */
const ALGORITHM = 'HS256';

/** A public, stable id for a key: lets verification pick the key without trying each one. */
export function keyId(secret: string): string {
  return createHash('sha256').update(`kakao-auth:kid:${secret}`).digest('base64url').slice(0, 16);
}

interface JoseHeader {
  alg?: unknown;
  typ?: unknown;
  kid?: unknown;
  crit?: unknown;
}

/** NumericDate as `issue` writes it: whole seconds since 1970, so also a valid JavaScript date. */
const isSeconds = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/** Members and sessions are keyed by UUID: any other `sub` or `sid` was never issued here. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * How far in the future an `iat` or `auth_time` may lie: tokens are issued by instances of this service,
 * whose clocks may disagree by seconds, never by more.
 */
const ISSUER_CLOCK_SKEW_SECONDS = 60;

function decodeHeader(token: string): JoseHeader | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    return header && typeof header === 'object' && !Array.isArray(header) ? header : undefined;
  } catch {
    return undefined;
  }
}

const unauthenticated = () => new AppException('UNAUTHENTICATED', 'Invalid access token');

/**
 * The service's own access tokens: HS256 JWTs signed with JWT_SECRET. Older secrets (JWT_PREVIOUS_SECRETS)
 * verify tokens issued before a rotation but never sign.
 */
@Injectable()
export class AccessTokenService {
  private readonly signingKid: string;
  private readonly signingKey: KeyObject;
  // KeyObjects made once: handed a string, jsonwebtoken first tries it as a PEM key (and fails) on every
  // call, which cost more than everything else on GET /members/me (bench/README.md).
  private readonly keys: Map<string, KeyObject>;

  constructor(
    private readonly jwt: JwtService,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.signingKid = keyId(config.jwt.secret);
    this.signingKey = createSecretKey(Buffer.from(config.jwt.secret, 'utf8'));
    this.keys = new Map(
      [config.jwt.secret, ...config.jwt.previousSecrets].map((s) => [
        keyId(s),
        createSecretKey(Buffer.from(s, 'utf8')),
      ]),
    );
  }

  get ttlSeconds(): number {
    return this.config.jwt.accessTokenTtl;
  }

  issue(input: AccessTokenInput): string {
    const { jwt } = this.config;
    return this.jwt.sign(
      { sid: input.sessionId, auth_time: Math.floor(input.authTime.getTime() / 1000), amr: [input.amr] },
      {
        privateKey: this.signingKey,
        algorithm: ALGORITHM,
        header: { alg: ALGORITHM, typ: ACCESS_TOKEN_TYP, kid: this.signingKid },
        expiresIn: jwt.accessTokenTtl,
        issuer: jwt.issuer,
        audience: jwt.audience,
        subject: input.memberId,
        jwtid: randomUUID(),
      },
    );
  }

  /**
   * Verifies everything RFC 8725 asks for; throws UNAUTHENTICATED, or TOKEN_EXPIRED once past exp. No clock
   * leeway: the service checks tokens it signed itself, so a skew between instances is seconds at most and
   * an expired token must be refused (and inactive on introspection) at its exp.
   */
  verify(token: string): AccessTokenClaims {
    const header = decodeHeader(token);
    // The header is checked before any key is touched: wrong alg, wrong typ (an id_token) or an unknown kid
    // are refused outright, and no other key is tried for an unknown kid.
    // We issue no `crit` header, so any one names an extension we do not understand (RFC 7515 4.1.11).
    if (
      !header ||
      header.alg !== ALGORITHM ||
      header.typ !== ACCESS_TOKEN_TYP ||
      typeof header.kid !== 'string' ||
      header.crit !== undefined
    ) {
      throw unauthenticated();
    }
    const key = this.keys.get(header.kid);
    if (!key) throw unauthenticated();
    let claims: Record<string, unknown>;
    try {
      claims = this.jwt.verify<Record<string, unknown>>(token, {
        // @nestjs/jwt types publicKey as string | Buffer but hands it to jsonwebtoken, which takes a KeyObject.
        publicKey: key as unknown as Buffer,
        algorithms: [ALGORITHM],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
      });
    } catch (err) {
      if (err instanceof TokenExpiredError) throw new AppException('TOKEN_EXPIRED', 'The access token has expired');
      throw unauthenticated();
    }
    if (!isAccessTokenClaims(claims, Math.floor(Date.now() / 1000))) throw unauthenticated();
    return claims;
  }
}

/**
 * The claims this service issues, in the shapes it issues them: a token signed with our key but carrying
 * anything else (a non-UUID id, times that are no whole positive seconds or lie in the future, no `amr`) was
 * not made by `issue`, and is refused before any of it reaches the database.
 */
function isAccessTokenClaims(
  c: Record<string, unknown>,
  nowSeconds: number,
): c is Record<string, unknown> & AccessTokenClaims {
  return (
    typeof c.sub === 'string' &&
    UUID.test(c.sub) &&
    typeof c.sid === 'string' &&
    UUID.test(c.sid) &&
    typeof c.jti === 'string' &&
    isSeconds(c.iat) &&
    c.iat <= nowSeconds + ISSUER_CLOCK_SKEW_SECONDS &&
    isSeconds(c.exp) &&
    c.exp > c.iat &&
    isSeconds(c.auth_time) &&
    c.auth_time <= nowSeconds + ISSUER_CLOCK_SKEW_SECONDS &&
    Array.isArray(c.amr) &&
    c.amr.length > 0 &&
    c.amr.every((m) => m === 'pwd' || m === 'kakao')
  );
}
