import { accessTokenTtl, clientKind, ResolvedConfig, TTL } from './config';
import type { KeyRing } from './keys';
import { DEFAULT_THUMBNAIL_IMAGE } from './personas';
import { EmulatorState, opaque, RefreshTokenEntry, UserState } from './state';
import type { FaultSpec, IdTokenFault, TokenResponse } from './types';
import { nowSeconds } from './wire';

export interface IssueInput {
  user: UserState;
  clientId: string;
  openid: boolean;
  authTime: number;
  nonce?: string;
  /** From the fault registry: leave the id_token out, or get it wrong. */
  idTokenFault?: Pick<FaultSpec, 'omitIdToken' | 'idToken'>;
}

/** Mints Kakao's opaque tokens and RS256 id_tokens, and keeps them in the state. */
export class TokenService {
  constructor(
    private readonly config: ResolvedConfig,
    private readonly state: EmulatorState,
    private readonly keys: KeyRing,
  ) {}

  /** The `scope` member: space-separated consented items, plus `openid` when an id_token comes (KAKAO_API.md 2). */
  scopeString(user: UserState, openid: boolean): string {
    return [...user.scopes, ...(openid ? ['openid'] : [])].join(' ');
  }

  /**
   * id_token claims, in the order of a real Kakao token (`aud, sub, auth_time, iss, nickname, exp, iat`,
   * KAKAO_API.md 3). `exp` equals the access token's expiry: a REST token showed `exp - iat = 21600` while its
   * `expires_in` said 21599, so the lifetime is the reported value plus one second.
   */
  idTokenClaims(
    user: UserState,
    clientId: string,
    authTime: number,
    nonce: string | undefined,
    iat: number,
  ): Record<string, unknown> {
    const p = user.persona;
    const claims: Record<string, unknown> = { aud: clientId, sub: p.id, auth_time: authTime, iss: this.config.issuer };
    if (nonce) claims.nonce = nonce;
    if (user.scopes.has('profile_nickname') && p.nickname !== undefined) claims.nickname = p.nickname;
    if (user.scopes.has('profile_image')) claims.picture = p.thumbnailImageUrl ?? DEFAULT_THUMBNAIL_IMAGE;
    // Only a valid and verified email goes into the id_token (KAKAO_API.md 3, ID token).
    if (user.scopes.has('account_email') && p.email && p.isEmailValid && p.isEmailVerified) claims.email = p.email;
    claims.exp = iat + accessTokenTtl(clientKind(this.config, clientId) ?? 'rest') + 1;
    claims.iat = iat;
    return claims;
  }

  idToken(user: UserState, clientId: string, authTime: number, nonce?: string, fault?: IdTokenFault): Promise<string> {
    const claims = this.idTokenClaims(user, clientId, authTime, nonce, nowSeconds());
    if (!fault) return this.keys.sign(claims);
    for (const [name, value] of Object.entries(fault.claims ?? {})) {
      if (value === null) delete claims[name];
      else claims[name] = value;
    }
    return Promise.resolve(this.keys.forge(claims, fault));
  }

  /** A fresh login's tokens: the answer of the authorization_code grant (KAKAO_API.md 2). */
  async issue(input: IssueInput): Promise<TokenResponse> {
    const { user, clientId } = input;
    const now = Date.now();
    const ttl = accessTokenTtl(clientKind(this.config, clientId) ?? 'rest');
    const family = this.state.newFamily(user.persona.id);
    const accessToken = opaque();
    const refreshToken = opaque();
    this.state.addRefreshToken(refreshToken, {
      userId: user.persona.id,
      clientId,
      family,
      openid: input.openid,
      authTime: input.authTime,
      expiresAt: now + TTL.refresh * 1000,
    });
    this.state.addAccessToken(accessToken, {
      userId: user.persona.id,
      clientId,
      family,
      refreshToken,
      scopes: [...user.scopes],
      expiresAt: now + (ttl + 1) * 1000,
    });
    const idToken =
      input.openid && !input.idTokenFault?.omitIdToken
        ? await this.idToken(user, clientId, input.authTime, input.nonce, input.idTokenFault?.idToken)
        : undefined;
    return {
      token_type: 'bearer',
      access_token: accessToken,
      ...(idToken ? { id_token: idToken } : {}),
      expires_in: ttl,
      refresh_token: refreshToken,
      refresh_token_expires_in: TTL.refresh,
      scope: this.scopeString(user, input.openid),
    };
  }

  /**
   * The refresh_token grant (KAKAO_API.md 2): a new access token; a new refresh token only when the old one has
   * less than a month left (the old one then expires); a new id_token when the login had one.
   */
  async refresh(
    refreshToken: string,
    entry: RefreshTokenEntry,
    user: UserState,
    idTokenFault?: Pick<FaultSpec, 'omitIdToken' | 'idToken'>,
  ): Promise<TokenResponse> {
    const now = Date.now();
    const ttl = accessTokenTtl(clientKind(this.config, entry.clientId) ?? 'rest');
    let current = refreshToken;
    let reissued: string | undefined;
    if (entry.expiresAt - now < TTL.refreshReissueBelow * 1000) {
      reissued = opaque();
      this.state.deleteRefreshToken(refreshToken);
      this.state.addRefreshToken(reissued, { ...entry, expiresAt: now + TTL.refresh * 1000 });
      current = reissued;
    }
    const accessToken = opaque();
    this.state.addAccessToken(accessToken, {
      userId: entry.userId,
      clientId: entry.clientId,
      family: entry.family,
      refreshToken: current,
      scopes: [...user.scopes],
      expiresAt: now + (ttl + 1) * 1000,
    });
    // A refreshed id_token has a new iat and exp but the original auth_time, and no nonce.
    const idToken =
      entry.openid && !idTokenFault?.omitIdToken
        ? await this.idToken(user, entry.clientId, entry.authTime, undefined, idTokenFault?.idToken)
        : undefined;
    return {
      token_type: 'bearer',
      access_token: accessToken,
      ...(idToken ? { id_token: idToken } : {}),
      expires_in: ttl,
      ...(reissued ? { refresh_token: reissued, refresh_token_expires_in: TTL.refresh } : {}),
      scope: this.scopeString(user, entry.openid),
    };
  }
}
