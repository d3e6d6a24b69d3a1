import { Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { KakaoModule } from '../kakao/kakao.module';
import { MembersModule } from '../members/members.module';
import { TokensModule } from '../tokens/tokens.module';
import { KakaoAdminKeyGuard } from './kakao-admin-key.guard';
import { KakaoWebhooksController } from './kakao-webhooks.controller';
import { KakaoWebhooksService } from './kakao-webhooks.service';
import { installWebhookIntake } from './webhook-intake';
import { WebhookInboxRepository } from './webhook-inbox.repository';

/** Kakao's unlink and account status webhooks: a durable inbox, processed by queue jobs. */
@Module({
  imports: [KakaoModule, MembersModule, TokensModule],
  controllers: [KakaoWebhooksController],
  providers: [KakaoWebhooksService, WebhookInboxRepository, KakaoAdminKeyGuard],
})
export class WebhooksModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly guard: KakaoAdminKeyGuard,
    private readonly webhooks: KakaoWebhooksService,
  ) {}

  /** Before Fastify is ready: its hooks and body parsers are fixed then. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addContentTypeParser) return;
    installWebhookIntake(
      fastify,
      (rawHeaders) => this.guard.presentsKey(rawHeaders),
      () => this.webhooks.count('unlink', 'unauthorized'),
    );
  }
}
