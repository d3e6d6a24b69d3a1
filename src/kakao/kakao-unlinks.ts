import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { TokenCipher } from '../common/crypto/token-cipher';
import { queryRows } from '../database/sql';

/**
 * First key of the two-key advisory locks on Kakao accounts. PostgreSQL keeps two-key locks apart from the
 * one-key (bigint) locks that migrations, the job queue and housekeeping take.
 */
const ACCOUNT_LOCK_CLASS = 0x4b414b41;

/**
 * When Kakao last told us a Kakao account was unlinked, keyed by a keyed hash of its id (the id itself is
 * personal data and is not kept). A login whose Kakao authentication is older must not re-create the link.
 */
@Injectable()
export class KakaoUnlinks {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: TokenCipher,
  ) {}

  userHash(kakaoUserId: string): Buffer {
    return this.cipher.fingerprint(kakaoUserId, 'kakao-user');
  }

  /**
   * Serialises, per Kakao account, the transactions that decide about its link: logins, links and
   * re-certifications, and the processing of Kakao's webhooks about it. Without it, a login that had read
   * the link could go on writing (profile, Kakao's tokens, a session) after an unlink had withdrawn the
   * member under it. With it, either the login commits first and the unlink then ends what it made, or the
   * unlink is applied first and the login then sees its mark and the link gone. Held until the transaction
   * ends. The key is an unkeyed digest of the id, so instances mid-way through a key rotation still agree;
   * 32 bits of it identify no one, and two accounts sharing a key only wait for each other a moment.
   */
  async lockAccount(manager: EntityManager, kakaoUserId: string): Promise<void> {
    const key = createHash('sha256').update(`kakao-account:${kakaoUserId}`).digest().readInt32BE(0);
    await manager.query(`SELECT pg_advisory_xact_lock($1::int, $2::int)`, [ACCOUNT_LOCK_CLASS, key]);
  }

  /** The latest time wins. */
  async mark(manager: EntityManager, kakaoUserHash: Buffer, at: Date): Promise<void> {
    await manager.query(
      `INSERT INTO kakao_unlinks (kakao_user_hash, unlinked_at) VALUES ($1, $2)
       ON CONFLICT (kakao_user_hash) DO UPDATE SET unlinked_at = GREATEST(kakao_unlinks.unlinked_at, EXCLUDED.unlinked_at)`,
      [kakaoUserHash, at],
    );
  }

  async unlinkedAt(kakaoUserId: string, manager: EntityManager = this.dataSource.manager): Promise<Date | undefined> {
    const rows = await queryRows<{ unlinked_at: Date }>(
      manager,
      `SELECT unlinked_at FROM kakao_unlinks WHERE kakao_user_hash = $1`,
      [this.userHash(kakaoUserId)],
    );
    return rows[0]?.unlinked_at;
  }
}
