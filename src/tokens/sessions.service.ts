import { Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { loggableError } from '../logging/logging';
import { AccessTokenClaims, AccessTokenService, AuthMethod } from './access-token.service';
import { RefreshRaceTracker } from './refresh-race';
import { SessionsRepository } from './sessions.repository';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export type Introspection =
  | { active: false }
  | {
      active: true;
      sub: string;
      exp: number;
      iat: number;
      iss: string;
      aud: string;
      jti: string;
      token_type: 'Bearer';
      memberStatus: string;
    };

export interface SessionStart {
  memberId: string;
  amr: AuthMethod;
  /** When the person last actively authenticated; defaults to now. */
  authTime?: Date;
  requestId?: string;
}

/** 256 bits: RFC 9700 asks refresh tokens be unguessable; they are opaque and stored hashed. */
const REFRESH_TOKEN_BYTES = 32;
const REFRESH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A high-entropy token needs no slow hash: SHA-256 is enough to keep the database copy useless. */
export const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();

const invalidRefreshToken = (message = 'The refresh token is not valid') =>
  new AppException('REFRESH_TOKEN_INVALID', message);

/**
 * Sessions and the service's own tokens: a session is one login, the family its rotating refresh tokens
 * belong to. Revoking it stops its refresh tokens and, on the next request, its access tokens.
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  private readonly races = new RefreshRaceTracker();
  private readonly logoutListeners: Array<(memberId: string) => Promise<void>> = [];

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly accessTokens: AccessTokenService,
    private readonly audit: AuditService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Starts a session inside the caller's transaction, so a login that fails later leaves no session. */
  async start(manager: EntityManager, input: SessionStart): Promise<TokenPair> {
    const authTime = input.authTime ?? new Date();
    const sessionId = await this.sessions.create(manager, {
      memberId: input.memberId,
      amr: input.amr,
      authTime,
      ttlSeconds: this.config.jwt.refreshTokenTtl,
    });
    const refreshToken = randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
    await this.sessions.addRefreshToken(
      manager,
      sessionId,
      hashToken(refreshToken),
      this.config.jwt.refreshTokenIdleTtl,
    );
    return this.pair(
      this.accessTokens.issue({ memberId: input.memberId, sessionId, authTime, amr: input.amr }),
      refreshToken,
    );
  }

  /**
   * Spends a refresh token for a new pair. A spent token presented again revokes its whole family
   * (RFC 9700 4.14.2), unless the request was racing the rotation itself (see RefreshRaceTracker).
   * `request.arrivedAt`: when the request reached the service, on the performance.now() clock;
   * `request.delivered`: resolves (same clock) once the answer has left, the earliest moment anyone can
   * hold the successor (without it, the rotation's own end counts).
   */
  async refresh(
    refreshToken: string,
    request: { arrivedAt: number; delivered?: Promise<number> },
    requestId?: string,
  ): Promise<TokenPair> {
    if (!REFRESH_TOKEN_PATTERN.test(refreshToken)) throw invalidRefreshToken();
    const oldHash = hashToken(refreshToken);
    const key = oldHash.toString('base64');
    const successor = randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
    const finish = this.races.begin(key);
    let rotated;
    try {
      rotated = await this.sessions.rotate(oldHash, hashToken(successor), this.config.jwt.refreshTokenIdleTtl);
    } catch (err) {
      finish(false, performance.now());
      throw err;
    }
    if (!rotated) finish(false, performance.now());
    else if (request.delivered) void request.delivered.then((at) => finish(true, at));
    else finish(true, performance.now());
    if (rotated) {
      return this.pair(
        this.accessTokens.issue({
          memberId: rotated.memberId,
          sessionId: rotated.sessionId,
          authTime: rotated.authTime,
          amr: rotated.amr,
        }),
        successor,
      );
    }

    const state = await this.sessions.findTokenState(oldHash);
    if (!state?.spent) throw invalidRefreshToken();
    if (await this.races.lostRace(key, request.arrivedAt)) {
      throw invalidRefreshToken('The refresh token was rotated by a concurrent request');
    }
    await this.sessions.manager.transaction(async (manager) => {
      const revoked = await this.sessions.revoke(manager, state.sessionId, 'refresh_token_reused');
      await this.audit.record(
        {
          type: 'session.refresh_reused',
          memberId: state.memberId,
          requestId,
          data: { sessionId: state.sessionId, familyRevoked: revoked },
        },
        manager,
      );
    });
    throw new AppException(
      'REFRESH_TOKEN_REUSED',
      'This refresh token was already used; every token of its session has been revoked',
    );
  }

  /**
   * Ends the caller's session (or all of the member's sessions). A refresh token given in the body ends its
   * own session too, when it belongs to the same member. Unknown or already revoked tokens are not errors, but
   * a logout that ended no session is only recorded: its follow-ups (the Kakao token's logout) do not run, or
   * a dead token could log out the Kakao token of the member's next login.
   */
  async logout(
    caller: { memberId: string; sessionId: string } | undefined,
    options: { refreshToken?: string; everywhere?: boolean; requestId?: string },
  ): Promise<void> {
    const tokenState = options.refreshToken
      ? await this.sessions.findTokenState(hashToken(options.refreshToken))
      : undefined;
    const memberId = caller?.memberId ?? tokenState?.memberId;
    if (!memberId) return;
    const count = await this.sessions.manager.transaction(async (manager) => {
      let ended = 0;
      // Only a proof whose own session was live here may end the others: a live session's access token, or a
      // live refresh token (its holder could get one). A spent token, or any token of a revoked session, names
      // the member but proves nothing, or a leaked old token could end every session of its member.
      let live = false;
      if (caller && (await this.sessions.revoke(manager, caller.sessionId, 'logout', memberId))) {
        ended++;
        live = true;
      }
      if (tokenState && tokenState.memberId === memberId && tokenState.sessionId !== caller?.sessionId) {
        if (await this.sessions.revoke(manager, tokenState.sessionId, 'logout', memberId)) {
          ended++;
          // Only a token that could still be refreshed proves what an access token would.
          live ||= !tokenState.spent && !tokenState.expired;
        }
      }
      const everywhere = Boolean(options.everywhere && live);
      if (everywhere) ended += await this.sessions.revokeAllOfMember(manager, memberId, 'logout_everywhere');
      await this.audit.record(
        {
          type: 'session.logged_out',
          memberId,
          requestId: options.requestId,
          data: { everywhere, sessions: ended },
        },
        manager,
      );
      return ended;
    });
    if (count === 0) return;
    const followUps = await Promise.allSettled(this.logoutListeners.map((listener) => listener(memberId)));
    for (const followUp of followUps) {
      if (followUp.status === 'rejected') {
        this.logger.warn({ memberId, error: loggableError(followUp.reason) }, 'A logout follow-up failed');
      }
    }
  }

  /**
   * Runs after every logout that ended a session has committed (the Kakao login module logs Kakao's token
   * out this way, without this module depending on it). A listener's failure never fails the logout.
   */
  addLogoutListener(listener: (memberId: string) => Promise<void>): void {
    this.logoutListeners.push(listener);
  }

  async revokeAllOfMember(manager: EntityManager, memberId: string, reason: string): Promise<number> {
    return this.sessions.revokeAllOfMember(manager, memberId, reason);
  }

  /** Verifies an access token and that its session is still live. */
  async authenticate(accessToken: string): Promise<AccessTokenClaims> {
    const claims = this.accessTokens.verify(accessToken);
    if (!(await this.sessions.isActive(claims.sid, claims.sub))) {
      throw new AppException('UNAUTHENTICATED', 'The session of this access token has ended');
    }
    return claims;
  }

  /** Whether a session is still live (not logged out or revoked) and its member active. */
  isSessionLive(sessionId: string, memberId: string): Promise<boolean> {
    return this.sessions.isActive(sessionId, memberId);
  }

  /** RFC 7662: anything that is not a live access token of an active member is just `{active: false}`. */
  async introspect(token: string): Promise<Introspection> {
    let claims: AccessTokenClaims;
    try {
      claims = this.accessTokens.verify(token);
    } catch {
      return { active: false };
    }
    const memberStatus = await this.sessions.liveMemberStatus(claims.sid, claims.sub);
    if (memberStatus !== 'active') return { active: false };
    const { sub, exp, iat, iss, aud, jti } = claims;
    return { active: true, sub, exp, iat, iss, aud, jti, token_type: 'Bearer', memberStatus };
  }

  private pair(accessToken: string, refreshToken: string): TokenPair {
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.accessTokens.ttlSeconds };
  }
}
