import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { normalizeEmail } from '../common/normalize';
import { queryRows } from '../database/sql';
import type { KakaoProfile } from '../kakao/kakao-profile';
import type { CandidateStatus, MatchInput } from './kakao-match';
import type { Member, MemberIdentity, MemberProfile, MemberStatus } from './member';

interface MemberRow {
  id: string;
  email: string | null;
  email_verified: boolean;
  name: string | null;
  status: MemberStatus;
  has_password: boolean;
  profile: MemberProfile;
  created_at: Date;
  identities: Array<{ provider: 'kakao'; provider_user_id: string; connected_at: string | null; linked_at: string }>;
}

export interface Credentials {
  id: string;
  status: MemberStatus;
  passwordHash: string | null;
}

export type LinkResult = { identityId: string } | { conflict: 'KAKAO_ALREADY_LINKED' | 'MEMBER_ALREADY_HAS_KAKAO' };

/** The Kakao-derived profile kept on a member (deleted with the Kakao link). */
export function profileFromKakao(p: KakaoProfile): MemberProfile {
  return {
    nickname: p.nickname,
    profileImageUrl: p.profileImageUrl,
    thumbnailImageUrl: p.thumbnailImageUrl,
    gender: p.gender,
    ageRange: p.ageRange,
    birthyear: p.birthyear,
    birthday: p.birthday,
    birthdayType: p.birthdayType,
    isLeapMonth: p.isLeapMonth,
    phoneNumber: p.phoneNumber,
  };
}

export type EmailTokenPurpose = 'email-verification' | 'reactivation';

const MEMBER_COLUMNS = `
  m.id, m.email, m.email_verified, m.name, m.status, m.password_hash IS NOT NULL AS has_password, m.profile,
  m.created_at,
  COALESCE((SELECT json_agg(json_build_object('provider', i.provider, 'provider_user_id', i.provider_user_id,
                     'connected_at', i.connected_at, 'linked_at', i.linked_at) ORDER BY i.linked_at)
            FROM member_identities i WHERE i.member_id = m.id), '[]') AS identities`;

function toMember(row: MemberRow): Member {
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified,
    name: row.name,
    status: row.status,
    hasPassword: row.has_password,
    profile: row.profile,
    createdAt: row.created_at,
    identities: row.identities.map((i): MemberIdentity => ({
      provider: i.provider,
      providerUserId: i.provider_user_id,
      connectedAt: i.connected_at ? new Date(i.connected_at) : null,
      linkedAt: new Date(i.linked_at),
    })),
  };
}

/** Persistence of members. Methods are named for their use; SQL stays here. */
@Injectable()
export class MembersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  async findById(id: string, manager: EntityManager = this.manager): Promise<Member | undefined> {
    const rows = await queryRows<MemberRow>(manager, `SELECT ${MEMBER_COLUMNS} FROM members m WHERE m.id = $1`, [id]);
    return rows[0] && toMember(rows[0]);
  }

  async findCredentialsByEmail(emailNormalized: string): Promise<Credentials | undefined> {
    const rows = await queryRows<{ id: string; status: MemberStatus; password_hash: string | null }>(
      this.manager,
      `SELECT id, status, password_hash FROM members WHERE email_normalized = $1`,
      [emailNormalized],
    );
    return rows[0] && { id: rows[0].id, status: rows[0].status, passwordHash: rows[0].password_hash };
  }

  /** Inserts an email member; undefined when the email is taken (the unique index decides, not a prior read). */
  async createWithPassword(
    manager: EntityManager,
    input: { email: string; emailNormalized: string; name: string; passwordHash: string },
  ): Promise<string | undefined> {
    const rows = await queryRows<{ id: string }>(
      manager,
      `INSERT INTO members (email, email_normalized, name, password_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (email_normalized) WHERE email_normalized IS NOT NULL DO NOTHING RETURNING id`,
      [input.email, input.emailNormalized, input.name, input.passwordHash],
    );
    return rows[0]?.id;
  }

  /** The member a Kakao account is linked to, with the identity row. */
  async findByKakaoId(
    kakaoId: string,
    manager: EntityManager = this.manager,
  ): Promise<{ memberId: string; identityId: string; status: MemberStatus } | undefined> {
    const rows = await queryRows<{ member_id: string; identity_id: string; status: MemberStatus }>(
      manager,
      `SELECT i.member_id, i.id AS identity_id, m.status FROM member_identities i JOIN members m ON m.id = i.member_id
       WHERE i.provider = 'kakao' AND i.provider_user_id = $1`,
      [kakaoId],
    );
    const row = rows[0];
    return row && { memberId: row.member_id, identityId: row.identity_id, status: row.status };
  }

  /**
   * The Kakao link a webhook call is about, with when it was made: a call applies only to a link made
   * before it was received (KakaoWebhooksService.process).
   */
  async findKakaoLink(
    kakaoId: string,
    manager: EntityManager,
  ): Promise<{ memberId: string; identityId: string; status: MemberStatus; linkedAt: Date } | undefined> {
    const rows = await queryRows<{ member_id: string; identity_id: string; status: MemberStatus; linked_at: Date }>(
      manager,
      `SELECT i.member_id, i.id AS identity_id, m.status, i.linked_at FROM member_identities i
       JOIN members m ON m.id = i.member_id
       WHERE i.provider = 'kakao' AND i.provider_user_id = $1`,
      [kakaoId],
    );
    const row = rows[0];
    return row && { memberId: row.member_id, identityId: row.identity_id, status: row.status, linkedAt: row.linked_at };
  }

  async findKakaoIdentity(
    memberId: string,
    manager: EntityManager = this.manager,
  ): Promise<{ identityId: string; kakaoId: string } | undefined> {
    const rows = await queryRows<{ id: string; provider_user_id: string }>(
      manager,
      `SELECT id, provider_user_id FROM member_identities WHERE member_id = $1 AND provider = 'kakao'`,
      [memberId],
    );
    return rows[0] && { identityId: rows[0].id, kakaoId: rows[0].provider_user_id };
  }

  /**
   * A member signed up from Kakao's data in one step. The email is kept only when Kakao vouches for it
   * (valid and verified) and no other member has it.
   */
  async createFromKakao(manager: EntityManager, profile: KakaoProfile): Promise<string> {
    const insert = async (email: string | null) =>
      queryRows<{ id: string }>(
        manager,
        `INSERT INTO members (email, email_normalized, email_verified, name, profile)
         VALUES ($1, $2, $1::text IS NOT NULL, $3, $4)
         ON CONFLICT (email_normalized) WHERE email_normalized IS NOT NULL DO NOTHING RETURNING id`,
        [
          email,
          email && normalizeEmail(email),
          profile.name ?? profile.nickname,
          JSON.stringify(profileFromKakao(profile)),
        ],
      );
    const withEmail = profile.trustedEmail ? await insert(profile.trustedEmail) : [];
    return (withEmail[0] ?? (await insert(null))[0]).id;
  }

  /**
   * The member with this (normalised) email, as a matching candidate. Deactivated members count: their
   * person must reactivate, not get a second account.
   */
  async findEmailCandidate(
    emailNormalized: string,
    manager: EntityManager = this.manager,
  ): Promise<MatchInput['sameEmail']> {
    const rows = await queryRows<{
      id: string;
      email: string;
      email_verified: boolean;
      name: string | null;
      has_kakao: boolean;
      status: CandidateStatus;
    }>(
      manager,
      `SELECT m.id, m.email, m.email_verified, m.name, m.status,
              EXISTS (SELECT 1 FROM member_identities i WHERE i.member_id = m.id AND i.provider = 'kakao') AS has_kakao
       FROM members m WHERE m.email_normalized = $1 AND m.status IN ('active', 'deactivated')`,
      [emailNormalized],
    );
    const r = rows[0];
    return (
      r && {
        memberId: r.id,
        email: r.email,
        emailVerified: r.email_verified,
        name: r.name,
        hasKakao: r.has_kakao,
        status: r.status,
      }
    );
  }

  /** The only member (active or deactivated) with this normalised name; undefined when none or several have it. */
  async findOnlyNameCandidate(
    nameNormalized: string,
    manager: EntityManager = this.manager,
  ): Promise<MatchInput['sameNameOnly']> {
    const rows = await queryRows<{
      id: string;
      email: string | null;
      name: string | null;
      has_kakao: boolean;
      status: CandidateStatus;
    }>(
      manager,
      `SELECT m.id, m.email, m.name, m.status,
              EXISTS (SELECT 1 FROM member_identities i WHERE i.member_id = m.id AND i.provider = 'kakao') AS has_kakao
       FROM members m
       WHERE regexp_replace(lower(normalize(m.name, NFKC)), '\\s+', '', 'g') = $1 AND m.name IS NOT NULL
         AND m.status IN ('active', 'deactivated')
       LIMIT 2`,
      [nameNormalized],
    );
    if (rows.length !== 1) return undefined;
    const r = rows[0];
    return { memberId: r.id, email: r.email, name: r.name, hasKakao: r.has_kakao, status: r.status };
  }

  /**
   * The member's status, locked against a concurrent change (deactivation) until the caller's transaction
   * ends: a link decided on `active` cannot then start a session for a deactivated member. The lock an
   * UPDATE of the row takes anyway (a shared lock would deadlock two links of one member that both update it).
   */
  async lockStatus(manager: EntityManager, memberId: string): Promise<MemberStatus | undefined> {
    const rows = await queryRows<{ status: MemberStatus }>(
      manager,
      `SELECT status FROM members WHERE id = $1 FOR NO KEY UPDATE`,
      [memberId],
    );
    return rows[0]?.status;
  }

  async createLinkTicket(
    manager: EntityManager,
    input: {
      ticketHash: Buffer;
      memberId: string;
      kind: 'confirm' | 'verify';
      kakaoSealed: string;
      ttlSeconds: number;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO link_tickets (ticket_hash, member_id, kind, kakao_sealed, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [input.ticketHash, input.memberId, input.kind, input.kakaoSealed, input.ttlSeconds],
    );
  }

  /** A live link ticket, without spending it (a wrong password must not burn it). */
  async findLinkTicket(
    ticketHash: Buffer,
  ): Promise<{ memberId: string; kind: 'confirm' | 'verify'; kakaoSealed: string } | undefined> {
    const rows = await queryRows<{ member_id: string; kind: 'confirm' | 'verify'; kakao_sealed: string }>(
      this.manager,
      `SELECT member_id, kind, kakao_sealed FROM link_tickets WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > now()`,
      [ticketHash],
    );
    const r = rows[0];
    return r && { memberId: r.member_id, kind: r.kind, kakaoSealed: r.kakao_sealed };
  }

  /** Spends a link ticket in one statement: of two racing uses, one wins. */
  async spendLinkTicket(manager: EntityManager, ticketHash: Buffer): Promise<boolean> {
    const rows = await queryRows(
      manager,
      `UPDATE link_tickets SET used_at = now() WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING 1`,
      [ticketHash],
    );
    return rows.length > 0;
  }

  /**
   * Links a Kakao account to a member. The two unique keys of member_identities decide under concurrency;
   * a conflict says which one was hit.
   */
  async linkKakao(manager: EntityManager, memberId: string, profile: KakaoProfile): Promise<LinkResult> {
    const rows = await queryRows<{ id: string }>(
      manager,
      `INSERT INTO member_identities (member_id, provider, provider_user_id, connected_at)
       VALUES ($1, 'kakao', $2, $3) ON CONFLICT DO NOTHING RETURNING id`,
      [memberId, profile.kakaoId, profile.connectedAt],
    );
    if (rows[0]) return { identityId: rows[0].id };
    const owner = await this.findByKakaoId(profile.kakaoId, manager);
    return { conflict: owner && owner.memberId !== memberId ? 'KAKAO_ALREADY_LINKED' : 'MEMBER_ALREADY_HAS_KAKAO' };
  }

  /** Kakao's latest values, on every Kakao login. */
  async refreshKakaoProfile(manager: EntityManager, memberId: string, profile: KakaoProfile): Promise<void> {
    await manager.query(`UPDATE members SET profile = $2, updated_at = now() WHERE id = $1`, [
      memberId,
      JSON.stringify(profileFromKakao(profile)),
    ]);
    await manager.query(
      `UPDATE member_identities SET connected_at = COALESCE($3, connected_at) WHERE member_id = $1 AND provider = 'kakao' AND provider_user_id = $2`,
      [memberId, profile.kakaoId, profile.connectedAt],
    );
  }

  /** Removes the Kakao identity (its tokens cascade) and the Kakao-derived profile; keeps the member. */
  async unlinkKakao(manager: EntityManager, memberId: string): Promise<void> {
    await manager.query(`DELETE FROM member_identities WHERE member_id = $1 AND provider = 'kakao'`, [memberId]);
    await manager.query(`UPDATE members SET profile = '{}'::jsonb, updated_at = now() WHERE id = $1`, [memberId]);
  }

  /**
   * Withdrawal: every piece of personal data goes (email, name, password hash, profile, identities and
   * their tokens, pending tickets); a tombstone with the id, status and dates remains for the audit trail.
   */
  async anonymize(manager: EntityManager, memberId: string): Promise<void> {
    await manager.query(`DELETE FROM member_identities WHERE member_id = $1`, [memberId]);
    await manager.query(`DELETE FROM email_tokens WHERE member_id = $1`, [memberId]);
    await manager.query(`DELETE FROM link_tickets WHERE member_id = $1`, [memberId]);
    await manager.query(
      `UPDATE members SET email = NULL, email_normalized = NULL, email_verified = false, name = NULL,
         password_hash = NULL, profile = '{}'::jsonb, status = 'withdrawn', withdrawn_at = now(), updated_at = now()
       WHERE id = $1`,
      [memberId],
    );
  }

  async recordLogin(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`UPDATE members SET last_login_at = now() WHERE id = $1`, [id]);
  }

  async setStatus(manager: EntityManager, id: string, from: MemberStatus, to: MemberStatus): Promise<boolean> {
    const rows = await queryRows(
      manager,
      `UPDATE members SET status = $3, updated_at = now(),
         deactivated_at = CASE WHEN $3 = 'deactivated' THEN now() ELSE NULL END
       WHERE id = $1 AND status = $2 RETURNING id`,
      [id, from, to],
    );
    return rows.length > 0;
  }

  async markEmailVerified(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`UPDATE members SET email_verified = true, updated_at = now() WHERE id = $1`, [id]);
  }

  async createEmailToken(
    manager: EntityManager,
    memberId: string,
    purpose: EmailTokenPurpose,
    tokenHash: Buffer,
    ttlSeconds: number,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO email_tokens (token_hash, member_id, purpose, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [tokenHash, memberId, purpose, ttlSeconds],
    );
  }

  /** Spends a one-time email token in one statement; returns its member, or undefined if not usable. */
  async useEmailToken(
    manager: EntityManager,
    purpose: EmailTokenPurpose,
    tokenHash: Buffer,
  ): Promise<string | undefined> {
    const rows = await queryRows<{ member_id: string }>(
      manager,
      `UPDATE email_tokens SET used_at = now()
       WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now() RETURNING member_id`,
      [tokenHash, purpose],
    );
    return rows[0]?.member_id;
  }
}
