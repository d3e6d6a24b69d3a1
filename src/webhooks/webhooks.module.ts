import { Module } from '@nestjs/common';
import { KakaoModule } from '../kakao/kakao.module';
import { MembersModule } from '../members/members.module';
import { TokensModule } from '../tokens/tokens.module';
import { KakaoAdminKeyGuard } from './kakao-admin-key.guard';
import { KakaoWebhooksController } from './kakao-webhooks.controller';
import { KakaoWebhooksService } from './kakao-webhooks.service';
import { WebhookInboxRepository } from './webhook-inbox.repository';

/** Kakao's unlink and account status webhooks: a durable inbox, processed by queue jobs. */
@Module({
  imports: [KakaoModule, MembersModule, TokensModule],
  controllers: [KakaoWebhooksController],
  providers: [KakaoWebhooksService, WebhookInboxRepository, KakaoAdminKeyGuard],
})
export class WebhooksModule {}
