import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRows } from '../database/sql';

export type LoginIntent = 'login' | 'link' | 'recertify';

export interface LoginTransaction {
  nonce: string;
  codeVerifierSealed: string;
  intent: LoginIntent;
  memberId: string | null;
  /** The session that started a link or re-certification; null for a login. */
  sessionId: string | null;
  returnTo: string | null;
}

/** A spent transaction as read back: what was stored, and when the login began. */
export interface ConsumedTransaction extends LoginTransaction {
  createdAt: Date;
}

/**
 * A refused transaction is still returned when it exists (expired, or presented by another browser): its
 * returnTo is where the refusal goes.
 */
export type ConsumeResult =
  | { ok: true; transaction: ConsumedTransaction }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'expired' | 'foreign'; transaction: ConsumedTransaction };

/** Login transactions (10 minutes, single use) and one-time tickets (60 seconds, single use). */
@Injectable()
export class LoginTransactionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(stateHash: Buffer, bindingHash: Buffer, tx: LoginTransaction, ttlSeconds: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO login_transactions (state_hash, binding_hash, nonce, code_verifier_sealed, intent, member_id,
                                       session_id, return_to, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
      [
        stateHash,
        bindingHash,
        tx.nonce,
        tx.codeVerifierSealed,
        tx.intent,
        tx.memberId,
        tx.sessionId,
        tx.returnTo,
        ttlSeconds,
      ],
    );
  }

  /**
   * Spends a transaction in one statement, so a state is accepted once however many callbacks race with it.
   * A foreign or expired one is spent too: it can never be finished afterwards.
   */
  async consume(stateHash: Buffer, bindingHash: Buffer | undefined): Promise<ConsumeResult> {
    const rows = await queryRows<{
      nonce: string;
      code_verifier_sealed: string;
      intent: LoginIntent;
      member_id: string | null;
      session_id: string | null;
      return_to: string | null;
      created_at: Date;
      expired: boolean;
      binding_hash: Buffer;
    }>(
      this.dataSource.manager,
      `UPDATE login_transactions SET used_at = now() WHERE state_hash = $1 AND used_at IS NULL
       RETURNING nonce, code_verifier_sealed, intent, member_id, session_id, return_to, created_at,
                 expires_at <= now() AS expired, binding_hash`,
      [stateHash],
    );
    const row = rows[0];
    if (!row) return { ok: false, reason: 'unknown' };
    const transaction: ConsumedTransaction = {
      nonce: row.nonce,
      codeVerifierSealed: row.code_verifier_sealed,
      intent: row.intent,
      memberId: row.member_id,
      sessionId: row.session_id,
      returnTo: row.return_to,
      createdAt: row.created_at,
    };
    if (!bindingHash || !row.binding_hash.equals(bindingHash)) return { ok: false, reason: 'foreign', transaction };
    if (row.expired) return { ok: false, reason: 'expired', transaction };
    return { ok: true, transaction };
  }

  async createTicket(ticketHash: Buffer, outcomeSealed: string, ttlSeconds: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO login_tickets (ticket_hash, outcome_sealed, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`,
      [ticketHash, outcomeSealed, ttlSeconds],
    );
  }

  async consumeTicket(ticketHash: Buffer): Promise<string | undefined> {
    const rows = await queryRows<{ outcome_sealed: string }>(
      this.dataSource.manager,
      `UPDATE login_tickets SET used_at = now() WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > now()
       RETURNING outcome_sealed`,
      [ticketHash],
    );
    return rows[0]?.outcome_sealed;
  }
}
