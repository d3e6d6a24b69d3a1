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

/** A kapi error (`{msg, code}`); surfaced as KAKAO_UNAVAILABLE unless the caller handles its Kakao code. */
export class KakaoApiError extends AppException {
  constructor(
    readonly httpStatus: number,
    readonly kakaoCode: number | undefined,
    path: string,
  ) {
    super('KAKAO_UNAVAILABLE', `Kakao refused ${path}`, { kakaoCode }, 502);
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
   * The user behind an access token. A dormant (or deleted) Kakao account answers -103 (KAKAO_API.md 8):
   * that is the person's account, not Kakao being down, so the login is refused as theirs.
   */
  async getUser(accessToken: string): Promise<KakaoUserRaw> {
    let body: unknown;
    try {
      ({ body } = await this.kapi({
        name: 'user.me',
        host: 'api',
        method: 'GET',
        path: '/v2/user/me',
        auth: { bearer: accessToken },
        params: { secure_resource: 'true' },
        idempotent: true,
      }));
    } catch (err) {
      if (err instanceof KakaoApiError && err.kakaoCode === -103) {
        throw new AppException(
          'KAKAO_ACCESS_DENIED',
          'This Kakao account is dormant or no longer exists; wake it up at Kakao, then log in again',
        );
      }
      throw err;
    }
    return expectUser(body);
  }

  /**
   * The app and user of an access token a client handed us. Kakao refusing the token (401, -401: unknown or
   * expired; -2: malformed) is the client's mistake, answered UNAUTHENTICATED, not KAKAO_UNAVAILABLE.
   */
  async getAccessTokenInfo(accessToken: string): Promise<KakaoAccessTokenInfo> {
    let body: unknown;
    try {
      ({ body } = await this.kapi({
        name: 'user.access_token_info',
        host: 'api',
        method: 'GET',
        path: '/v1/user/access_token_info',
        auth: { bearer: accessToken },
        idempotent: true,
      }));
    } catch (err) {
      if (err instanceof KakaoApiError && (err.httpStatus === 401 || err.kakaoCode === -2)) {
        throw new AppException('UNAUTHENTICATED', 'Kakao does not accept this access token');
      }
      throw err;
    }
    const info = body as Partial<KakaoAccessTokenInfo>;
    if (typeof info?.id !== 'string' || typeof info.app_id !== 'string') throw this.garbage('user.access_token_info');
    return info as KakaoAccessTokenInfo;
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
    const tokens = body as Partial<KakaoTokenResponse>;
    if (typeof tokens?.access_token !== 'string' || typeof tokens.expires_in !== 'number') throw this.garbage(name);
    return tokens as KakaoTokenResponse;
  }

  private async kapi(options: RequestOptions): Promise<RawResponse> {
    const response = await this.send(options);
    if (response.status >= 400) {
      const code = (response.body as { code?: unknown } | undefined)?.code;
      const kakaoCode = typeof code === 'number' ? code : undefined;
      this.logger.warn({ call: options.name, status: response.status, kakaoCode }, 'Kakao API error');
      throw new KakaoApiError(response.status, kakaoCode, options.path);
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
          throw new AppException('KAKAO_UNAVAILABLE', 'Kakao is unavailable, try again later', undefined, 503);
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
    let body: string | undefined;
    if (options.method === 'GET') {
      url.search = params.toString();
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded;charset=utf-8';
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

function expectUser(body: unknown): KakaoUserRaw {
  const user = body as Partial<KakaoUserRaw> | undefined;
  if (typeof user?.id !== 'string' || !/^\d+$/.test(user.id)) {
    throw new AppException('KAKAO_UNAVAILABLE', 'Kakao answered with an unexpected response', undefined, 502);
  }
  return user as KakaoUserRaw;
}
