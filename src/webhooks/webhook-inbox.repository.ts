import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export interface InboxEntry {
  kind: 'unlink' | 'account_event';
  dedupeKey: string;
  event: string;
  reason: string | null;
  kakaoUserId: string;
  kakaoUserHash: Buffer;
  occurredAt: Date | null;
}

/** A call recorded as already settled: nothing to apply (another app's, or one that names no user). */
export interface SettledEntry extends Omit<InboxEntry, 'kakaoUserId'> {
  outcome: 'ignored' | 'invalid';
}

export interface PendingCall {
  id: string;
  kind: 'unlink' | 'account_event';
  event: string;
  reason: string | null;
  kakaoUserId: string | null;
  receivedAt: Date;
}

/** The durable inbox of Kakao's webhook calls. Methods are named for their use; SQL stays here. */
@Injectable()
export class WebhookInboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  /** The new row's id, or undefined when the same call is already in (dedupe key). */
  async add(manager: EntityManager, entry: InboxEntry): Promise<string | undefined> {
    const rows = await queryRows<{ id: string }>(
      manager,
      `INSERT INTO webhook_inbox (kind, dedupe_key, event, reason, kakao_user_id, kakao_user_hash, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [
        entry.kind,
        entry.dedupeKey,
        entry.event,
        entry.reason,
        entry.kakaoUserId,
        entry.kakaoUserHash,
        entry.occurredAt,
      ],
    );
    return rows[0]?.id;
  }

  /**
   * A call that needs no processing, stored processed (no queue job, no user id) so that every
   * authenticated call leaves a trace for the operator.
   */
  async addSettled(manager: EntityManager, entry: SettledEntry): Promise<string | undefined> {
    const rows = await queryRows<{ id: string }>(
      manager,
      `INSERT INTO webhook_inbox (kind, dedupe_key, event, reason, kakao_user_hash, occurred_at, processed_at, outcome)
       VALUES ($1, $2, $3, $4, $5, $6, now(), $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [entry.kind, entry.dedupeKey, entry.event, entry.reason, entry.kakaoUserHash, entry.occurredAt, entry.outcome],
    );
    return rows[0]?.id;
  }

  /** Locks an unprocessed call for this transaction; undefined when it is processed already. */
  async lockPending(manager: EntityManager, id: string): Promise<PendingCall | undefined> {
    const rows = await queryRows<{
      id: string;
      kind: 'unlink' | 'account_event';
      event: string;
      reason: string | null;
      kakao_user_id: string | null;
      received_at: Date;
    }>(
      manager,
      `SELECT id, kind, event, reason, kakao_user_id, received_at FROM webhook_inbox
       WHERE id = $1 AND processed_at IS NULL FOR UPDATE`,
      [id],
    );
    const r = rows[0];
    return (
      r && {
        id: r.id,
        kind: r.kind,
        event: r.event,
        reason: r.reason,
        kakaoUserId: r.kakao_user_id,
        receivedAt: r.received_at,
      }
    );
  }

  /** Done: the outcome is kept, the Kakao user id is not (its keyed hash stays). */
  async markProcessed(manager: EntityManager, id: string, outcome: string): Promise<void> {
    await manager.query(
      `UPDATE webhook_inbox SET processed_at = now(), outcome = $2, kakao_user_id = NULL WHERE id = $1`,
      [id, outcome],
    );
  }

  async pendingIds(): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.manager,
      `SELECT id FROM webhook_inbox WHERE processed_at IS NULL ORDER BY id`,
    );
    return rows.map((r) => r.id);
  }

  async backlog(): Promise<number> {
    const rows = await queryRows<{ n: number }>(
      this.manager,
      `SELECT count(*)::int AS n FROM webhook_inbox WHERE processed_at IS NULL`,
    );
    return rows[0]?.n ?? 0;
  }
}
