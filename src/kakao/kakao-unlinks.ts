import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TokenCipher } from '../common/crypto/token-cipher';
import { queryRows } from '../database/sql';

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
