import { Injectable, Logger } from '@nestjs/common';
import { createLocalJWKSet, errors, JSONWebKeySet, jwtVerify, JWTVerifyGetKey } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { KakaoClient } from './kakao.client';
import type { KakaoIdTokenClaims } from './kakao.types';

/** Kakao asks for cached keys (KAKAO_API.md 3, JWKS): refreshed in the background of use every 10 minutes. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** While Kakao fails, a stale JWKS is refetched in the background at most this often. */
const JWKS_STALE_RETRY_MS = 30_000;
/**
 * Refetches for unknown kids are at least this far apart, whoever sends the tokens, so forged kids cannot make
 * us hammer Kakao. A token arriving in between waits for the next one rather than failing a real key rotation.
 */
export const JWKS_UNKNOWN_KID_FLOOR_MS = 1_000;
/**
 * Clock skew allowed where Kakao's clock and ours meet: a fresh id_token's iat (ours may run behind Kakao's),
 * and a SET's times. Not on exp: a token Kakao just issued expires hours later whatever the skew, so an exp
 * in the past is only ever an old token (KAKAO_API.md 3: "exp must be later than now").
 */
const CLOCK_TOLERANCE_SECONDS = 60;
const EXP_TOLERANCE_SECONDS = 5;
/** An id_token older than this is not accepted for a login, whatever its exp says. */
const MAX_TOKEN_AGE_SECONDS = 24 * 3600;

const invalid = (reason: string) => new AppException('ID_TOKEN_INVALID', 'The Kakao id_token is not valid', { reason });

/** What an operator reads in a refusal: the claim that failed, or jose's code for anything else. */
function refusalReason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return err.code;
  if (err instanceof errors.JWTClaimValidationFailed) return err.claim;
  return err instanceof errors.JOSEError ? err.code : 'malformed';
}

/** RFC 8935 §2.3 error codes of a refused Security Event Token. */
export type SetErrorCode = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience';

export class SecurityEventInvalid extends Error {
  constructor(
    readonly err: SetErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

export interface SecurityEventClaims {
  iss: string;
  aud: string | string[];
  sub?: string;
  iat: number;
  jti: string;
  toe?: number;
  events: Record<string, Record<string, unknown>>;
}

interface CachedJwks {
  getKey: JWTVerifyGetKey;
  kids: Set<string>;
  fetchedAt: number;
}

/**
 * Verifies Kakao's RS256 id_tokens (OIDC Core 3.1.3.7) against Kakao's JWKS. Kept apart from the verifier of
 * our own HS256 tokens: each pins its own algorithm.
 */
@Injectable()
export class KakaoIdTokenVerifier {
  private readonly logger = new Logger(KakaoIdTokenVerifier.name);
  private cache?: CachedJwks;
  private lastFetchAttempt = 0;
  private inflight?: Promise<CachedJwks>;
  private lastUnknownKidRefetch = -Infinity;
  /** The next refetch for unknown kids, shared by every token waiting for it. */
  private nextUnknownKidRefetch?: Promise<void>;

  constructor(
    private readonly kakao: KakaoClient,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * `audiences`: the REST API key for codes exchanged by us; plus KAKAO_EXTRA_AUDIENCES for tokens from a
   * native or JavaScript SDK. `nonce`: the login's (required when the token carries one).
   */
  async verify(idToken: string, options: { nonce?: string; audiences?: string[] } = {}): Promise<KakaoIdTokenClaims> {
    const audiences = options.audiences ?? [this.config.kakao.restApiKey];
    let payload: Record<string, unknown>;
    let header: { typ?: unknown };
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(idToken, (h, token) => this.key(h, token), {
        algorithms: ['RS256'],
        issuer: this.config.kakao.issuer,
        audience: audiences,
        clockTolerance: EXP_TOLERANCE_SECONDS,
        requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp'],
      }));
    } catch (err) {
      if (err instanceof AppException) throw err;
      throw invalid(refusalReason(err));
    }
    // Another kind of JWT signed with Kakao's keys (a Security Event Token, an access token) is no id_token;
    // Kakao's id_tokens say `typ: JWT` (KAKAO_API.md 3; RFC 8725 3.11). `application/` may prefix it (RFC 7515).
    if (header.typ !== undefined && (typeof header.typ !== 'string' || !/^(application\/)?jwt$/i.test(header.typ))) {
      throw invalid('typ');
    }
    // A single audience is what Kakao issues; several (or an azp dance) are not expected from it.
    if (Array.isArray(payload.aud) && payload.aud.length !== 1) throw invalid('aud');
    // The party the token was issued to, when named, must be one of our app keys (OIDC Core 3.1.3.7 (5)).
    if (payload.azp !== undefined && !this.appKeys().includes(payload.azp as string)) throw invalid('azp');
    if (typeof payload.sub !== 'string' || !/^\d+$/.test(payload.sub)) throw invalid('sub');
    const now = Math.floor(Date.now() / 1000);
    const iat = payload.iat;
    if (typeof iat !== 'number' || iat > now + CLOCK_TOLERANCE_SECONDS) throw invalid('iat');
    if (now - iat > MAX_TOKEN_AGE_SECONDS) throw invalid('iat');
    // OIDC Core 3.1.3.7 (11): a nonce in the token means the authentication request sent one, and whoever
    // redeems it must present it, so a code or token stolen from a front-end that used one is worth nothing alone.
    if (options.nonce !== undefined ? payload.nonce !== options.nonce : payload.nonce !== undefined) {
      throw invalid('nonce');
    }
    return payload as unknown as KakaoIdTokenClaims;
  }

  /** The app's keys that may stand as an id_token's authorized party: the REST API key and the SDKs' keys. */
  private appKeys(): string[] {
    return [this.config.kakao.restApiKey, ...this.config.kakao.extraAudiences];
  }

  /**
   * Verifies a Security Event Token of Kakao's account status webhook (KAKAO_API.md 7.2): RS256 with the same
   * JWKS as id_tokens, `typ: secevent+jwt`, Kakao's issuer, our REST API key (or app id) as audience. A
   * refusal names its RFC 8935 error code; Kakao's keys being unreachable is not the sender's fault and is
   * thrown as KAKAO_UNAVAILABLE.
   */
  async verifySecurityEvent(token: string): Promise<SecurityEventClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, (header, t) => this.key(header, t), {
        algorithms: ['RS256'],
        typ: 'secevent+jwt',
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['iss', 'aud', 'iat', 'jti', 'events'],
      }));
    } catch (err) {
      if (err instanceof AppException) {
        if (err.code === 'ID_TOKEN_INVALID') throw new SecurityEventInvalid('invalid_key', 'Unknown signing key');
        throw err;
      }
      if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) {
        throw new SecurityEventInvalid('invalid_key', 'The signature does not verify with Kakao’s keys');
      }
      const detail = err instanceof errors.JWTClaimValidationFailed ? ` (${err.claim})` : '';
      throw new SecurityEventInvalid('invalid_request', `Not a valid Security Event Token${detail}`);
    }
    if (payload.iss !== this.config.kakao.issuer) throw new SecurityEventInvalid('invalid_issuer', 'Unexpected iss');
    const accepted = [this.config.kakao.restApiKey, this.config.kakao.appId];
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.some((a) => typeof a === 'string' && accepted.includes(a))) {
      throw new SecurityEventInvalid('invalid_audience', 'The SET is not addressed to this app');
    }
    const events = payload.events;
    if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) {
      throw new SecurityEventInvalid('invalid_request', 'jti must be a non-empty string');
    }
    if (!events || typeof events !== 'object' || Array.isArray(events) || !Object.keys(events).length) {
      throw new SecurityEventInvalid('invalid_request', 'events must name at least one event');
    }
    return payload as unknown as SecurityEventClaims;
  }

  private async key(header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1]) {
    let jwks = await this.jwks();
    // Kakao rotates keys: a kid we do not know yet may be new.
    if (header.kid !== undefined && !jwks.kids.has(header.kid)) jwks = await this.jwksWith(header.kid, jwks);
    try {
      return await jwks.getKey(header, token);
    } catch (err) {
      throw invalid(err instanceof errors.JOSEError ? err.code : 'kid');
    }
  }

  /**
   * The JWKS after a fetch begun since the token arrived, or an earlier one if it has the kid. A failed fetch
   * leaves the cached set.
   */
  private async jwksWith(kid: string, cached: CachedJwks): Promise<CachedJwks> {
    // A fetch under way may have left before Kakao published the key: it serves only if it brought the kid.
    await this.inflight?.catch(() => undefined);
    if (this.cache?.kids.has(kid)) return this.cache;
    this.nextUnknownKidRefetch ??= this.untilFloor().then(() => this.refetchForUnknownKids());
    await this.nextUnknownKidRefetch;
    return this.cache ?? cached;
  }

  /** Always a timer, even past the floor: tokens arriving together share the refetch. */
  private async untilFloor(): Promise<void> {
    const wait = () => this.lastUnknownKidRefetch + JWKS_UNKNOWN_KID_FLOOR_MS - Date.now();
    await sleep(Math.max(0, wait()));
    // A timer may fire a little early; the floor holds by the clock.
    while (wait() > 0) await sleep(wait());
  }

  private async refetchForUnknownKids(): Promise<void> {
    // Tokens arriving from now on wait for the next refetch: this one may leave before their key is published.
    this.nextUnknownKidRefetch = undefined;
    this.lastUnknownKidRefetch = Date.now();
    await this.refetch().catch(() => undefined);
  }

  /** The cached JWKS; refreshed when stale (a stale copy is kept if Kakao is down); fetched when cold. */
  private async jwks(): Promise<CachedJwks> {
    if (!this.cache) {
      try {
        return await this.refetch();
      } catch (err) {
        // Fail closed: with no keys at all nothing can be verified.
        if (err instanceof AppException) throw err;
        throw new AppException('KAKAO_UNAVAILABLE', "Kakao's signing keys could not be fetched", undefined, 503);
      }
    }
    if (
      Date.now() - this.cache.fetchedAt > JWKS_MAX_AGE_MS &&
      Date.now() - this.lastFetchAttempt > JWKS_STALE_RETRY_MS
    ) {
      void this.refetch().catch(() => undefined);
    }
    return this.cache;
  }

  private refetch(): Promise<CachedJwks> {
    this.inflight ??= (async () => {
      this.lastFetchAttempt = Date.now();
      try {
        const body = (await this.kakao.getJwks()) as JSONWebKeySet;
        if (!body || !Array.isArray(body.keys)) {
          throw new AppException('KAKAO_UNAVAILABLE', "Kakao's signing keys could not be read", undefined, 502);
        }
        this.cache = {
          getKey: createLocalJWKSet(body),
          kids: new Set(body.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string')),
          fetchedAt: Date.now(),
        };
        return this.cache;
      } catch (err) {
        this.logger.warn({ cached: Boolean(this.cache) }, "Fetching Kakao's JWKS failed");
        throw err;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}
