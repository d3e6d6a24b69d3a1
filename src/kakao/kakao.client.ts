import { Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { CircuitBreaker, CircuitState } from './circuit-breaker';
import { InjectConfig } from '../config/config.module';
import { parseKakaoJson } from './kakao-json';
import type {
  KakaoAccessTokenInfo,
  KakaoServiceTerm,
  KakaoServiceTermsResponse,
  KakaoTokenResponse,
  KakaoUserRaw,
} from './kakao.types';

/**
 * Kakao's kapi error codes (KAKAO_API.md 8) by what they mean for the caller. Kakao says to branch on the
 * code, never on the message.
 */
const TEMPORARY_CODES = new Set([
  -1, // internal error, retry
  -7, // maintenance or internal problem
  -10, // quota exceeded
  -603, // internal timeout
  -9798, // under maintenance
]);
/** The person's Kakao account cannot be used with the app: nothing Kakao or we could retry. */
const ACCOUNT_REFUSALS: Record<number, string> = {
  [-101]: 'This Kakao account is not linked to the app; log in with Kakao again',
  [-103]: 'This Kakao account is dormant or no longer exists; wake it up at Kakao, then log in again',
  [-4]: 'Kakao has restricted this Kakao account',
  [-405]: 'Kakao asks this Kakao account for an age verification first',
  [-406]: 'This Kakao account belongs to someone under 14, which the app does not accept',
};
/** The access token was refused: unknown, expired (-401) or malformed (-2). */
const TOKEN_CODES = new Set([-401, -2]);

export type KapiErrorKind = 'temporary' | 'account' | 'consent' | 'token' | 'app';

/**
 * What a kapi error means: Kakao failing for a while (`temporary`), the person's account refused (`account`),
 * a consent missing (`consent`), the access token refused (`token`), or anything else, which is the app's
 * setup at Kakao or Kakao misbehaving (`app`).
 */
export function kapiErrorKind(httpStatus: number, kakaoCode: number | undefined): KapiErrorKind {
  if (httpStatus === 429 || httpStatus >= 500) return 'temporary';
  if (kakaoCode === undefined) return httpStatus === 401 ? 'token' : 'app';
  if (TEMPORARY_CODES.has(kakaoCode)) return 'temporary';
  if (kakaoCode in ACCOUNT_REFUSALS) return 'account';
  if (kakaoCode === -402) return 'consent';
  if (TOKEN_CODES.has(kakaoCode)) return 'token';
  return 'app';
}

/**
 * A kapi error (`{msg, code}`) as Kakao sent it: KAKAO_UNAVAILABLE (503 when Kakao says it is temporary, 502
 * otherwise) unless the caller maps it further (`forUser`) or handles its Kakao code itself (unlink).
 */
export class KakaoApiError extends AppException {
  constructor(
    readonly httpStatus: number,
    readonly kakaoCode: number | undefined,
    path: string,
    /** `required_scopes` of a -402 answer: the consent items to ask for (KAKAO_API.md 8). */
    readonly requiredScopes?: string[],
  ) {
    const temporary = kapiErrorKind(httpStatus, kakaoCode) === 'temporary';
    super('KAKAO_UNAVAILABLE', `Kakao refused ${path}`, { kakaoCode }, temporary ? 503 : 502);
  }

  get kind(): KapiErrorKind {
    return kapiErrorKind(this.httpStatus, this.kakaoCode);
  }

  /**
   * The one mapping of kapi errors for the calls made on a person's behalf during a login (access_token_info,
   * /v2/user/me). `tokenFromCaller`: the access token is the caller's (native login), so Kakao refusing it is
   * the caller's mistake; a token Kakao issued to us moments ago being refused is Kakao misbehaving.
   */
  forUser(tokenFromCaller: boolean): AppException {
    const kakaoCode = this.kakaoCode;
    switch (this.kind) {
      case 'temporary':
        return new AppException('KAKAO_UNAVAILABLE', 'Kakao is unavailable, try again later', { kakaoCode }, 503);
      case 'account':
        return new AppException('KAKAO_ACCESS_DENIED', ACCOUNT_REFUSALS[kakaoCode!], { kakaoCode });
      case 'consent':
        return new AppException(
          'KAKAO_CONSENT_REQUIRED',
          'The Kakao account has not consented to an item this service needs',
          this.requiredScopes ? { kakaoCode, requiredScopes: this.requiredScopes } : { kakaoCode },
        );
      case 'token':
        if (tokenFromCaller) {
          return new AppException('UNAUTHENTICATED', 'Kakao does not accept this access token', { kakaoCode });
        }
        return this;
      case 'app':
        return this;
    }
  }
}

type Host = 'auth' | 'api';
type Auth = { bearer: string } | { admin: true } | undefined;

interface RequestOptions {
  host: Host;
  path: string;
  method: 'GET' | 'POST';
  auth?: Auth;
  params?: Record<string, string | undefined>;
  /** Reads may be retried once; a code exchange or an unlink never is. */
  idempotent?: boolean;
  /** Log name of the call (paths can hold nothing secret, but keep names stable for metrics). */
  name: string;
}

interface RawResponse {
  status: number;
  body: unknown;
}

/**
 * The one client for every call to Kakao (kauth and kapi): timeouts, one retry for idempotent reads, error
 * mapping to our codes, ids parsed as strings, and logs without tokens or secrets.
 */
@Injectable()
export class KakaoClient {
  private readonly logger = new Logger(KakaoClient.name);
  // Five failed exchanges in a row pause calls for 30 s (then one trial decides).
  private readonly breaker = new CircuitBreaker({ failureThreshold: 5, openMs: 30_000 });

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  /** authorization_code grant (KAKAO_API.md 2). Never retried: a code is single use. */
  async exchangeCode(input: { code: string; redirectUri: string; codeVerifier?: string }): Promise<KakaoTokenResponse> {
    return this.tokenRequest('token.authorization_code', {
      grant_type: 'authorization_code',
      client_id: this.config.kakao.restApiKey,
      redirect_uri: input.redirectUri,
      code: input.code,
      code_verifier: input.codeVerifier,
      client_secret: this.config.kakao.clientSecret,
    });
  }

  /** refresh_token grant: a new refresh token comes only when the old one had under a month left. */
  async refreshTokens(refreshToken: string): Promise<KakaoTokenResponse> {
    return this.tokenRequest('token.refresh_token', {
      grant_type: 'refresh_token',
      client_id: this.config.kakao.restApiKey,
      refresh_token: refreshToken,
      client_secret: this.config.kakao.clientSecret,
    });
  }

  /**
   * The user behind an access token. Errors map as KakaoApiError.forUser says: a dormant (-103) or restricted
   * account is the person's, not Kakao being down. `tokenFromCaller`: the token is the caller's (native login).
   */
  async getUser(accessToken: string, options: { tokenFromCaller?: boolean } = {}): Promise<KakaoUserRaw> {
    const { body } = await this.kapiForUser(
      {
        name: 'user.me',
        host: 'api',
        method: 'GET',
        path: '/v2/user/me',
        auth: { bearer: accessToken },
        params: { secure_resource: 'true' },
        idempotent: true,
      },
      options.tokenFromCaller ?? false,
    );
    return expectUser(body);
  }

  /**
   * Manual link of a PREREGISTERED user (apps with auto-link OFF, KAKAO_API.md 4): Kakao gives the whole user
   * only once the app has signed them up, and unlinks anyone left PREREGISTERED for 24 h. "Already registered"
   * (-102) is the outcome wanted, so the call may be retried like a read. Errors map as getUser's do.
   */
  async signupUser(accessToken: string, options: { tokenFromCaller?: boolean } = {}): Promise<void> {
    try {
      await this.kapiForUser(
        {
          name: 'user.signup',
          host: 'api',
          method: 'POST',
          path: '/v1/user/signup',
          auth: { bearer: accessToken },
          idempotent: true,
        },
        options.tokenFromCaller ?? false,
      );
    } catch (err) {
      // forUser leaves an app-level code such as -102 as the KakaoApiError it was.
      if (!(err instanceof KakaoApiError && err.kakaoCode === -102)) throw err;
    }
  }

  /**
   * The app and user of an access token a client handed us. Kakao refusing the token (401, -401: unknown or
   * expired; -2: malformed) is the client's mistake, answered UNAUTHENTICATED, not KAKAO_UNAVAILABLE; the
   * other codes map as KakaoApiError.forUser says.
   */
  async getAccessTokenInfo(accessToken: string): Promise<KakaoAccessTokenInfo> {
    const { body } = await this.kapiForUser(
      {
        name: 'user.access_token_info',
        host: 'api',
        method: 'GET',
        path: '/v1/user/access_token_info',
        auth: { bearer: accessToken },
        idempotent: true,
      },
      true,
    );
    const info = body as Partial<KakaoAccessTokenInfo>;
    if (
      typeof info?.id !== 'string' ||
      !/^\d+$/.test(info.id) ||
      typeof info.app_id !== 'string' ||
      !isLifetime(info.expires_in)
    ) {
      throw this.garbage('user.access_token_info');
    }
    return { id: info.id, app_id: info.app_id, expires_in: info.expires_in };
  }

  /** Revokes one access token (Bearer) or every token of the user (admin key). */
  async logout(target: { accessToken: string } | { userId: string }): Promise<void> {
    await this.kapi({
      name: 'user.logout',
      host: 'api',
      method: 'POST',
      path: '/v1/user/logout',
      ...this.target(target),
    });
  }

  /**
   * Unlinks the user from the app. Returns false when there is nothing left to unlink at Kakao, which callers
   * treat as done: the user is not linked (-101), or the Kakao account is dormant or gone (-103), which would
   * otherwise block a withdrawal for good.
   */
  async unlink(target: { accessToken: string } | { userId: string }): Promise<boolean> {
    try {
      await this.kapi({
        name: 'user.unlink',
        host: 'api',
        method: 'POST',
        path: '/v1/user/unlink',
        ...this.target(target),
      });
      return true;
    } catch (err) {
      if (err instanceof KakaoApiError && err.kakaoCode === -101) return false;
      if (err instanceof KakaoApiError && err.kakaoCode === -103) {
        this.logger.warn(
          { call: 'user.unlink', kakaoCode: -103 },
          'Kakao account dormant or gone; unlink counted as done',
        );
        return false;
      }
      throw err;
    }
  }

  async getServiceTerms(
    target: { accessToken: string } | { userId: string },
    options: { tags?: string[]; result?: 'agreed_service_terms' | 'app_service_terms' } = {},
  ): Promise<KakaoServiceTerm[]> {
    const t = this.target(target);
    const { body } = await this.kapi({
      name: 'user.service_terms',
      host: 'api',
      method: 'GET',
      path: '/v2/user/service_terms',
      auth: t.auth,
      params: { ...t.params, tags: options.tags?.join(','), result: options.result },
      idempotent: true,
    });
    const terms = (body as Partial<KakaoServiceTermsResponse>)?.service_terms;
    if (!Array.isArray(terms)) throw this.garbage('user.service_terms');
    return terms;
  }

  /** Marks terms agreed at Kakao (`agreed_by: KAPI`); answers the newly agreed ones (others are left out). */
  async upgradeServiceTerms(
    target: { accessToken: string } | { userId: string },
    tags: string[],
  ): Promise<KakaoServiceTerm[]> {
    const t = this.target(target);
    const { body } = await this.kapi({
      name: 'user.upgrade_service_terms',
      host: 'api',
      method: 'POST',
      path: '/v2/user/upgrade/service_terms',
      auth: t.auth,
      params: { ...t.params, tags: tags.join(',') },
    });
    const agreed = (body as { agreed_service_terms?: unknown })?.agreed_service_terms;
    if (!Array.isArray(agreed)) throw this.garbage('user.upgrade_service_terms');
    return agreed as KakaoServiceTerm[];
  }

  async revokeServiceTerms(target: { accessToken: string } | { userId: string }, tags: string[]): Promise<void> {
    const t = this.target(target);
    await this.kapi({
      name: 'user.revoke_service_terms',
      host: 'api',
      method: 'POST',
      path: '/v2/user/revoke/service_terms',
      auth: t.auth,
      params: { ...t.params, tags: tags.join(',') },
    });
  }

  /** Kakao's JWKS (kauth). Fetched by the id_token verifier, which owns caching. */
  async getJwks(): Promise<unknown> {
    const { body } = await this.send({
      name: 'jwks',
      host: 'auth',
      method: 'GET',
      path: '/.well-known/jwks.json',
      idempotent: true,
    });
    return body;
  }

  private target(target: { accessToken: string } | { userId: string }): {
    auth: Auth;
    params?: Record<string, string>;
  } {
    return 'accessToken' in target
      ? { auth: { bearer: target.accessToken } }
      : { auth: { admin: true }, params: { target_id_type: 'user_id', target_id: target.userId } };
  }

  private async tokenRequest(name: string, params: Record<string, string | undefined>): Promise<KakaoTokenResponse> {
    const { status, body } = await this.send({ name, host: 'auth', method: 'POST', path: '/oauth/token', params });
    if (status >= 400) {
      const error = body as { error?: unknown; error_code?: unknown } | undefined;
      const kakaoError = typeof error?.error_code === 'string' ? error.error_code : undefined;
      const log = { call: name, status, kakaoError, error: error?.error };
      // Our own credentials refused (KOE010: client secret; any invalid_client): the service is misconfigured.
      if (status === 401 || error?.error === 'invalid_client') {
        this.logger.error(
          log,
          'Kakao refused our client credentials: check KAKAO_REST_API_KEY and KAKAO_CLIENT_SECRET',
        );
        throw new AppException(
          'KAKAO_UNAVAILABLE',
          'Kakao login is misconfigured on this service',
          { kakaoError },
          502,
        );
      }
      // Kakao's per-user token quota (KOE237; KAKAO_API.md 2): nothing the caller did wrong, try later.
      if (status === 429 || kakaoError === 'KOE237') {
        this.logger.warn(log, 'Kakao token rate limit reached');
        throw new AppException(
          'KAKAO_UNAVAILABLE',
          'Kakao is limiting token requests; try again later',
          { kakaoError },
          503,
        );
      }
      this.logger.warn(log, 'Kakao refused the token request');
      throw new AppException('KAKAO_TOKEN_EXCHANGE_FAILED', 'Kakao refused the authorization code or token', {
        kakaoError,
      });
    }
    if (!isTokenResponse(body)) throw this.garbage(name);
    return body;
  }

  /** A kapi call on a person's behalf during a login: its errors mapped as KakaoApiError.forUser says. */
  private async kapiForUser(options: RequestOptions, tokenFromCaller: boolean): Promise<RawResponse> {
    try {
      return await this.kapi(options);
    } catch (err) {
      throw err instanceof KakaoApiError ? err.forUser(tokenFromCaller) : err;
    }
  }

  private async kapi(options: RequestOptions): Promise<RawResponse> {
    const response = await this.send(options);
    if (response.status >= 400) {
      const error = response.body as { code?: unknown; required_scopes?: unknown } | undefined;
      const kakaoCode = typeof error?.code === 'number' ? error.code : undefined;
      const scopes = error?.required_scopes;
      const requiredScopes =
        Array.isArray(scopes) && scopes.every((s): s is string => typeof s === 'string') ? scopes : undefined;
      this.logger.warn({ call: options.name, status: response.status, kakaoCode }, 'Kakao API error');
      throw new KakaoApiError(response.status, kakaoCode, options.path, requiredScopes);
    }
    return response;
  }

  /** Whether calls to Kakao are paused after repeated failures (reported by /health/ready). */
  get circuit(): CircuitState {
    return this.breaker.state;
  }

  /**
   * One HTTP exchange (plus one retry for idempotent reads on a network error or a 5xx), through the circuit
   * breaker: while Kakao keeps failing, calls fail at once instead of each holding a socket until its timeout.
   */
  private async send(options: RequestOptions): Promise<RawResponse> {
    if (!this.breaker.allow()) {
      throw new AppException('KAKAO_UNAVAILABLE', 'Kakao is failing; calls are paused for a moment', undefined, 503);
    }
    let answered = false;
    try {
      const response = await this.exchange(options);
      answered = true;
      return response;
    } finally {
      if (answered) this.breaker.success();
      else this.breaker.failure();
    }
  }

  private async exchange(options: RequestOptions): Promise<RawResponse> {
    const attempts = options.idempotent ? 2 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.once(options);
        if (response.status >= 500 && attempt < attempts) continue;
        if (response.status >= 500) {
          const code = (response.body as { code?: unknown } | undefined)?.code;
          const details = typeof code === 'number' ? { kakaoCode: code } : undefined;
          throw new AppException('KAKAO_UNAVAILABLE', 'Kakao is unavailable, try again later', details, 503);
        }
        return response;
      } catch (err) {
        if (err instanceof AppException) throw err;
        // Duck-typed: the DOMException of an aborted fetch is not always an `instanceof Error` (other realms).
        const name = (err as { name?: unknown } | undefined)?.name;
        const timedOut = name === 'TimeoutError' || name === 'AbortError';
        this.logger.warn(
          { call: options.name, attempt, error: timedOut ? 'timeout' : errorName(err) },
          'Kakao call failed',
        );
        if (attempt < attempts) continue;
        throw new AppException(
          'KAKAO_UNAVAILABLE',
          timedOut ? 'Kakao did not answer in time' : 'Kakao could not be reached',
          undefined,
          timedOut ? 504 : 502,
        );
      }
    }
  }

  private async once(options: RequestOptions): Promise<RawResponse> {
    const { kakao } = this.config;
    const base = options.host === 'auth' ? kakao.authBaseUrl : kakao.apiBaseUrl;
    const url = new URL(options.path, `${base.replace(/\/+$/, '')}/`);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options.params ?? {})) if (v !== undefined) params.set(k, v);
    const headers: Record<string, string> = {};
    if (options.auth && 'bearer' in options.auth) headers.authorization = `Bearer ${options.auth.bearer}`;
    if (options.auth && 'admin' in options.auth) headers.authorization = `KakaoAK ${kakao.adminKey}`;
    // kapi lists this Content-Type as required on every call, GET included (KAKAO_API.md 4).
    if (options.host === 'api' || options.method === 'POST') {
      headers['content-type'] = 'application/x-www-form-urlencoded;charset=utf-8';
    }
    let body: string | undefined;
    if (options.method === 'GET') {
      url.search = params.toString();
    } else {
      body = params.toString();
    }
    const started = performance.now();
    const res = await fetch(url, {
      method: options.method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(kakao.httpTimeoutMs),
    });
    const text = await res.text();
    this.logger.debug(
      { call: options.name, status: res.status, ms: Math.round(performance.now() - started) },
      'Kakao call',
    );
    let parsed: unknown;
    try {
      parsed = text ? parseKakaoJson(text) : undefined;
    } catch {
      if (res.status >= 500) return { status: res.status, body: undefined };
      throw this.garbage(options.name);
    }
    return { status: res.status, body: parsed };
  }

  private garbage(name: string): AppException {
    this.logger.warn({ call: name }, 'Kakao answered something that is not the documented JSON');
    return new AppException('KAKAO_UNAVAILABLE', 'Kakao answered with an unexpected response', undefined, 502);
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? ((err.cause as { code?: string } | undefined)?.code ?? err.name) : 'unknown';
}

/** Longer than any lifetime Kakao gives (refresh tokens: two months): beyond it a number is garbage. */
const MAX_LIFETIME_SECONDS = 10 * 366 * 24 * 3600;

/** A lifetime in seconds as Kakao writes them: a whole, non-negative, plausible number. */
function isLifetime(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_LIFETIME_SECONDS;
}

const optionalString = (value: unknown) => value === undefined || typeof value === 'string';

/** The token endpoint's answer (KAKAO_API.md 2), checked before a value of it reaches the database. */
function isTokenResponse(body: unknown): body is KakaoTokenResponse {
  const t = body as Record<string, unknown> | undefined;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.access_token === 'string' &&
    t.access_token !== '' &&
    isLifetime(t.expires_in) &&
    (t.refresh_token_expires_in === undefined || isLifetime(t.refresh_token_expires_in)) &&
    optionalString(t.refresh_token) &&
    optionalString(t.id_token) &&
    optionalString(t.scope)
  );
}

function expectUser(body: unknown): KakaoUserRaw {
  const user = body as Partial<KakaoUserRaw> | undefined;
  if (typeof user?.id !== 'string' || !/^\d+$/.test(user.id)) {
    throw new AppException('KAKAO_UNAVAILABLE', 'Kakao answered with an unexpected response', undefined, 502);
  }
  return user as KakaoUserRaw;
}
