import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export type AuditEventType =
  | 'member.signed_up'
  | 'member.logged_in'
  | 'member.login_failed'
  | 'member.email_verified'
  | 'member.deactivated'
  | 'member.reactivated'
  | 'member.reactivation_unreachable'
  | 'member.kakao_linked'
  | 'member.recertified'
  | 'member.kakao_decision'
  | 'member.kakao_unlinked'
  | 'member.withdrawn'
  | 'session.logged_out'
  | 'session.refresh_reused'
  | 'terms.agreed'
  | 'terms.revoked'
  | 'terms.required'
  | 'webhook.processed'
  | 'webhook.ignored';

export interface AuditEvent {
  type: AuditEventType;
  memberId?: string;
  requestId?: string;
  /** Ids and reasons only: never personal data, never secrets. */
  data?: Record<string, string | number | boolean | null>;
}

/** Writes the security and lifecycle trail. Pass the transaction's manager so the event commits with the change. */
@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(event: AuditEvent, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(`INSERT INTO audit_events (type, member_id, request_id, data) VALUES ($1, $2, $3, $4)`, [
      event.type,
      event.memberId ?? null,
      event.requestId ?? null,
      JSON.stringify(event.data ?? {}),
    ]);
  }
}
