import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { KakaoTokenStore } from '../kakao/kakao-token.store';
import { KakaoApiError, KakaoClient } from '../kakao/kakao.client';
import { MembersRepository } from '../members/members.repository';
import { SessionsService } from '../tokens/sessions.service';

/**
 * On a logout that ended a session, the member's stored Kakao token is logged out at Kakao (`/v1/user/logout`)
 * and deleted. Kakao being down does not block the logout: the token is deleted anyway and expires at Kakao on
 * its own.
 */
@Injectable()
export class KakaoLogoutListener implements OnModuleInit {
  private readonly logger = new Logger(KakaoLogoutListener.name);

  constructor(
    private readonly sessions: SessionsService,
    private readonly members: MembersRepository,
    private readonly tokens: KakaoTokenStore,
    private readonly kakao: KakaoClient,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.sessions.addLogoutListener((memberId) => this.logout(memberId));
  }

  async logout(memberId: string): Promise<void> {
    const identity = await this.members.findKakaoIdentity(memberId);
    if (!identity) return;
    try {
      await this.logoutAtKakao(identity.identityId);
    } catch (err) {
      this.logger.warn({ memberId, error: err instanceof Error ? err.message : 'unknown' }, 'Kakao logout failed');
    }
    await this.tokens.delete(this.dataSource.manager, identity.identityId);
  }

  /**
   * Kakao's logout expires the refresh token too. An access token Kakao no longer takes (-401, before its
   * stored expiry) is refreshed once and the logout tried again (KAKAO_API.md 5: "-401 … Refresh it"), or the
   * refresh token would stay valid at Kakao for up to two months after the member logged out.
   */
  private async logoutAtKakao(identityId: string): Promise<void> {
    const accessToken = await this.tokens.accessToken(identityId);
    if (!accessToken) return;
    try {
      await this.kakao.logout({ accessToken });
    } catch (err) {
      if (!(err instanceof KakaoApiError && err.kind === 'token')) throw err;
      const renewed = await this.tokens.accessToken(identityId, { renew: true });
      if (!renewed) throw err;
      await this.kakao.logout({ accessToken: renewed });
    }
  }
}
