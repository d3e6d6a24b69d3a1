import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TokenCipher } from '../common/crypto/token-cipher';
import { queryRows } from '../database/sql';
import { KakaoClient } from './kakao.client';
import type { KakaoTokenResponse } from './kakao.types';

/** Refresh a little before expiry, so a token is not handed out seconds before it dies. */
const EXPIRY_MARGIN_SECONDS = 60;

interface StoredRow {
  access_token_sealed: string;
  access_valid: boolean;
  refresh_token_sealed: string | null;
  refresh_valid: boolean;
}

/**
 * Kakao's tokens of an identity, kept for later calls (logout, unlink, terms): encrypted at rest with
 * TOKEN_ENCRYPTION_KEY and bound to their identity row, refreshed through Kakao's refresh grant when needed.
 */
@Injectable()
export class KakaoTokenStore {
  private readonly logger = new Logger(KakaoTokenStore.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: TokenCipher,
    private readonly kakao: KakaoClient,
  ) {}

  /**
   * Stores tokens from a token response. Kakao omits the refresh token when the old one stays valid
   * (KAKAO_API.md 2, refresh grant), so an absent one keeps what is stored.
   */
  async save(manager: EntityManager, identityId: string, tokens: KakaoTokenResponse): Promise<void> {
    const refresh = tokens.refresh_token ? this.cipher.encrypt(tokens.refresh_token, identityId) : null;
    await manager.query(
      `INSERT INTO kakao_tokens (identity_id, access_token_sealed, access_expires_at, refresh_token_sealed,
                                 refresh_expires_at, scopes, updated_at)
       VALUES ($1, $2, now() + make_interval(secs => $3), $4,
               CASE WHEN $4::text IS NULL THEN NULL ELSE now() + make_interval(secs => $5) END, $6, now())
       ON CONFLICT (identity_id) DO UPDATE SET
         access_token_sealed = EXCLUDED.access_token_sealed,
         access_expires_at = EXCLUDED.access_expires_at,
         refresh_token_sealed = COALESCE(EXCLUDED.refresh_token_sealed, kakao_tokens.refresh_token_sealed),
         refresh_expires_at = COALESCE(EXCLUDED.refresh_expires_at, kakao_tokens.refresh_expires_at),
         scopes = CASE WHEN EXCLUDED.scopes = '' THEN kakao_tokens.scopes ELSE EXCLUDED.scopes END,
         updated_at = now()`,
      [
        identityId,
        this.cipher.encrypt(tokens.access_token, identityId),
        tokens.expires_in,
        refresh,
        tokens.refresh_token_expires_in ?? 0,
        tokens.scope ?? '',
      ],
    );
  }

  /** A usable access token, refreshed when expired; undefined when there is none or it cannot be renewed. */
  async accessToken(identityId: string, options: { renew?: boolean } = {}): Promise<string | undefined> {
    const rows = await queryRows<StoredRow>(
      this.dataSource.manager,
      `SELECT access_token_sealed, access_expires_at > now() + make_interval(secs => $2) AS access_valid,
              refresh_token_sealed, COALESCE(refresh_expires_at > now(), false) AS refresh_valid
       FROM kakao_tokens WHERE identity_id = $1`,
      [identityId, EXPIRY_MARGIN_SECONDS],
    );
    const row = rows[0];
    if (!row) return undefined;
    // `renew`: Kakao refused the stored access token before its stored expiry (-401), so only a refresh helps.
    if (row.access_valid && !options.renew) return this.cipher.decrypt(row.access_token_sealed, identityId);
    if (!row.refresh_token_sealed || !row.refresh_valid) return undefined;
    try {
      const tokens = await this.kakao.refreshTokens(this.cipher.decrypt(row.refresh_token_sealed, identityId));
      await this.save(this.dataSource.manager, identityId, tokens);
      return tokens.access_token;
    } catch (err) {
      this.logger.warn(
        { identityId, error: err instanceof Error ? err.message : 'unknown' },
        'Kakao token refresh failed',
      );
      return undefined;
    }
  }

  async delete(manager: EntityManager, identityId: string): Promise<void> {
    await manager.query(`DELETE FROM kakao_tokens WHERE identity_id = $1`, [identityId]);
  }
}
