import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import type { AgreedBy, TermChange, TermSource, TermState } from './terms-reconcile';

export interface TermHistoryEntry {
  tag: string;
  agreed: boolean;
  agreedAt: Date | null;
  agreedBy: AgreedBy | null;
  source: TermSource;
  recordedAt: Date;
}

export interface TermsTicket {
  memberId: string | null;
  missing: string[];
  continuationSealed: string;
}

interface StateRow {
  tag: string;
  agreed: boolean;
  agreed_at: Date | null;
  agreed_by: AgreedBy | null;
  source: TermSource;
  kakao_agreed: boolean | null;
  changed_at: Date;
}

/** Persistence of members' terms agreements. Methods are named for their use; SQL stays here. */
@Injectable()
export class TermsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  /** The member's current state per tag. */
  async states(manager: EntityManager, memberId: string): Promise<Map<string, TermState>> {
    const rows = await queryRows<StateRow>(
      manager,
      `SELECT tag, agreed, agreed_at, agreed_by, source, kakao_agreed, changed_at FROM member_terms WHERE member_id = $1`,
      [memberId],
    );
    return new Map(
      rows.map((r) => [
        r.tag,
        {
          agreed: r.agreed,
          agreedAt: r.agreed_at,
          agreedBy: r.agreed_by,
          source: r.source,
          kakaoAgreed: r.kakao_agreed,
          changedAt: r.changed_at,
        },
      ]),
    );
  }

  /**
   * Records changes in one statement: a history row each (in the given order) and the new current state.
   * `kakaoAgreed` is Kakao's latest answer for the tag, when Kakao was read.
   */
  async recordAgreements(
    manager: EntityManager,
    memberId: string,
    changes: Array<TermChange & { kakaoAgreed: boolean | null }>,
    requestId?: string,
  ): Promise<void> {
    if (!changes.length) return;
    await manager.query(
      `WITH c AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb)
           AS c(ord integer, tag text, agreed boolean, agreed_at timestamptz, agreed_by text, source text,
                kakao_agreed boolean)
       ), history AS (
         INSERT INTO member_terms_history (member_id, tag, agreed, agreed_at, agreed_by, source, request_id)
         SELECT $1, tag, agreed, agreed_at, agreed_by, source, $3 FROM c ORDER BY ord
       )
       INSERT INTO member_terms (member_id, tag, agreed, agreed_at, agreed_by, source, kakao_agreed, changed_at)
       SELECT $1, tag, agreed, agreed_at, agreed_by, source, kakao_agreed, clock_timestamp() FROM c
       ON CONFLICT (member_id, tag) DO UPDATE SET
         agreed = EXCLUDED.agreed, agreed_at = EXCLUDED.agreed_at, agreed_by = EXCLUDED.agreed_by,
         source = EXCLUDED.source, kakao_agreed = COALESCE(EXCLUDED.kakao_agreed, member_terms.kakao_agreed),
         changed_at = EXCLUDED.changed_at`,
      [
        memberId,
        JSON.stringify(
          changes.map((c, ord) => ({
            ord,
            ...c,
            agreed_at: c.agreedAt,
            agreed_by: c.agreedBy,
            kakao_agreed: c.kakaoAgreed,
          })),
        ),
        requestId ?? null,
      ],
    );
  }

  /** Remembers Kakao's answer for tags whose agreement did not change. */
  async rememberKakao(manager: EntityManager, memberId: string, answers: Array<{ tag: string; agreed: boolean }>) {
    if (!answers.length) return;
    await manager.query(
      `UPDATE member_terms m SET kakao_agreed = a.agreed
       FROM jsonb_to_recordset($2::jsonb) AS a(tag text, agreed boolean)
       WHERE m.member_id = $1 AND m.tag = a.tag`,
      [memberId, JSON.stringify(answers)],
    );
  }

  /**
   * Locks the member's row for the rest of the transaction (two logins of one member record their terms one
   * after the other, never both from the same stale read) and notes how Kakao's read went.
   */
  async lockForChanges(manager: EntityManager, memberId: string, kakao: 'read' | 'failed' | 'not-read'): Promise<void> {
    await manager.query(
      `UPDATE members SET
         terms_synced_at = CASE WHEN $2 = 'read' THEN now() ELSE terms_synced_at END,
         terms_stale = CASE $2 WHEN 'read' THEN false WHEN 'failed' THEN true ELSE terms_stale END
       WHERE id = $1`,
      [memberId, kakao],
    );
  }

  async syncState(memberId: string): Promise<{ syncedAt: Date | null; stale: boolean }> {
    const rows = await queryRows<{ terms_synced_at: Date | null; terms_stale: boolean }>(
      this.manager,
      `SELECT terms_synced_at, terms_stale FROM members WHERE id = $1`,
      [memberId],
    );
    return { syncedAt: rows[0]?.terms_synced_at ?? null, stale: rows[0]?.terms_stale ?? false };
  }

  /** Oldest first: the order in which the service learned of each change. */
  async history(memberId: string): Promise<TermHistoryEntry[]> {
    const rows = await queryRows<{
      tag: string;
      agreed: boolean;
      agreed_at: Date | null;
      agreed_by: AgreedBy | null;
      source: TermSource;
      recorded_at: Date;
    }>(
      this.manager,
      `SELECT tag, agreed, agreed_at, agreed_by, source, recorded_at FROM member_terms_history
       WHERE member_id = $1 ORDER BY id`,
      [memberId],
    );
    return rows.map((r) => ({
      tag: r.tag,
      agreed: r.agreed,
      agreedAt: r.agreed_at,
      agreedBy: r.agreed_by,
      source: r.source,
      recordedAt: r.recorded_at,
    }));
  }

  /** The Kakao user id of the member's linked Kakao account, for calls with the admin key. */
  async kakaoIdOf(memberId: string, manager: EntityManager = this.manager): Promise<string | undefined> {
    const rows = await queryRows<{ provider_user_id: string }>(
      manager,
      `SELECT provider_user_id FROM member_identities WHERE member_id = $1 AND provider = 'kakao'`,
      [memberId],
    );
    return rows[0]?.provider_user_id;
  }

  /** Withdrawal: the agreements are personal data too. */
  async forgetMember(manager: EntityManager, memberId: string): Promise<void> {
    await manager.query(`DELETE FROM member_terms_history WHERE member_id = $1`, [memberId]);
    await manager.query(`DELETE FROM member_terms WHERE member_id = $1`, [memberId]);
    await manager.query(`DELETE FROM terms_tickets WHERE member_id = $1`, [memberId]);
    await manager.query(`UPDATE members SET terms_synced_at = NULL, terms_stale = false WHERE id = $1`, [memberId]);
  }

  async createTicket(
    manager: EntityManager,
    input: {
      ticketHash: Buffer;
      memberId: string | null;
      missing: string[];
      continuationSealed: string;
      ttlSeconds: number;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO terms_tickets (ticket_hash, member_id, missing, continuation_sealed, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [input.ticketHash, input.memberId, input.missing, input.continuationSealed, input.ttlSeconds],
    );
  }

  /** A live ticket, without spending it: a request that fails validation must not burn it. */
  async findTicket(ticketHash: Buffer): Promise<TermsTicket | undefined> {
    const rows = await queryRows<{ member_id: string | null; missing: string[]; continuation_sealed: string }>(
      this.manager,
      `SELECT member_id, missing, continuation_sealed FROM terms_tickets
       WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > now()`,
      [ticketHash],
    );
    const r = rows[0];
    return r && { memberId: r.member_id, missing: r.missing, continuationSealed: r.continuation_sealed };
  }

  /** Spends a ticket in one statement: of two racing uses, one wins. */
  async spendTicket(manager: EntityManager, ticketHash: Buffer): Promise<boolean> {
    const rows = await queryRows(
      manager,
      `UPDATE terms_tickets SET used_at = now() WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING 1`,
      [ticketHash],
    );
    return rows.length > 0;
  }
}
