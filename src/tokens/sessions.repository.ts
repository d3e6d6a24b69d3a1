import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import type { AuthMethod } from './access-token.service';

export interface RotatedSession {
  sessionId: string;
  memberId: string;
  amr: AuthMethod;
  authTime: Date;
}

export interface SpentTokenState {
  sessionId: string;
  memberId: string;
  spent: boolean;
  sessionRevoked: boolean;
  /** Past its own expiry (idle) or its session's (absolute): it could not be refreshed any more. */
  expired: boolean;
}

/** Persistence of sessions (refresh-token families) and their refresh tokens, stored as SHA-256 hashes only. */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(
    manager: EntityManager,
    input: { memberId: string; amr: AuthMethod; authTime: Date; ttlSeconds: number },
  ): Promise<string> {
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO sessions (member_id, amr, auth_time, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id`,
      [input.memberId, input.amr, input.authTime, input.ttlSeconds],
    );
    return rows[0].id;
  }

  async addRefreshToken(manager: EntityManager, sessionId: string, tokenHash: Buffer, idleSeconds: number) {
    await manager.query(
      `INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
       SELECT $1, id, LEAST(now() + make_interval(secs => $3), expires_at) FROM sessions WHERE id = $2`,
      [tokenHash, sessionId, idleSeconds],
    );
  }

  /**
   * Spends a live refresh token and stores its successor in one statement: the row lock of the UPDATE lets
   * exactly one of any number of concurrent callers through. Returns nothing when the token is unknown,
   * spent or expired, or its session or member is no longer active (and then the token is left unspent).
   */
  async rotate(oldHash: Buffer, newHash: Buffer, idleSeconds: number): Promise<RotatedSession | undefined> {
    const rows = await queryRows<{ session_id: string; member_id: string; amr: AuthMethod; auth_time: Date }>(
      this.dataSource.manager,
      `WITH live AS (
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
      [oldHash, newHash, idleSeconds],
    );
    const row = rows[0];
    return row && { sessionId: row.session_id, memberId: row.member_id, amr: row.amr, authTime: row.auth_time };
  }

  async findTokenState(tokenHash: Buffer): Promise<SpentTokenState | undefined> {
    const rows = await queryRows<{
      session_id: string;
      member_id: string;
      spent: boolean;
      revoked: boolean;
      expired: boolean;
    }>(
      this.dataSource.manager,
      `SELECT s.id AS session_id, s.member_id, t.spent_at IS NOT NULL AS spent, s.revoked_at IS NOT NULL AS revoked,
              (t.expires_at <= now() OR s.expires_at <= now()) AS expired
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1`,
      [tokenHash],
    );
    const row = rows[0];
    return (
      row && {
        sessionId: row.session_id,
        memberId: row.member_id,
        spent: row.spent,
        sessionRevoked: row.revoked,
        expired: row.expired,
      }
    );
  }

  /** Whether access tokens of this session may still be used: not revoked, and the member active. */
  async isActive(sessionId: string, memberId: string): Promise<boolean> {
    const rows = await queryRows(
      this.dataSource.manager,
      `SELECT 1 FROM sessions s JOIN members m ON m.id = s.member_id
       WHERE s.id = $1 AND s.member_id = $2 AND s.revoked_at IS NULL AND m.status = 'active'`,
      [sessionId, memberId],
    );
    return rows.length > 0;
  }

  /** The member's status when the session is live, for introspection. */
  async liveMemberStatus(sessionId: string, memberId: string): Promise<string | undefined> {
    const rows = await queryRows<{ status: string }>(
      this.dataSource.manager,
      `SELECT m.status FROM sessions s JOIN members m ON m.id = s.member_id
       WHERE s.id = $1 AND s.member_id = $2 AND s.revoked_at IS NULL`,
      [sessionId, memberId],
    );
    return rows[0]?.status;
  }

  /** Revokes one session; returns false when it was already revoked (or is not the member's). */
  async revoke(manager: EntityManager, sessionId: string, reason: string, memberId?: string): Promise<boolean> {
    const rows = await queryRows(
      manager,
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
       WHERE id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR member_id = $3) RETURNING id`,
      [sessionId, reason, memberId ?? null],
    );
    return rows.length > 0;
  }

  async revokeAllOfMember(manager: EntityManager, memberId: string, reason: string): Promise<number> {
    const rows = await queryRows(
      manager,
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
       WHERE member_id = $1 AND revoked_at IS NULL RETURNING id`,
      [memberId, reason],
    );
    return rows.length;
  }

  get manager(): EntityManager {
    return this.dataSource.manager;
  }
}
