import { Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/auth/public.decorator';
import { ErrorResponse } from '../common/errors';
import { KakaoIdTokenVerifier, SecurityEventInvalid } from '../kakao/kakao-id-token.verifier';
import { SWAGGER_TAGS } from '../swagger';
import { KakaoAdminKeyGuard } from './kakao-admin-key.guard';
import { parseUnlinkCall, setTimeProblem, unlinkParams } from './kakao-webhook-events';
import { KakaoWebhooksService } from './kakao-webhooks.service';
import { originalContentType } from './webhook-intake';

const UNLINK_DESCRIPTION =
  'Kakao calls this when a person unlinks the app in "Manage Connected Services" or their account is deleted (KAKAO_API.md 7.1). ' +
  '`Authorization: KakaoAK <KAKAO_ADMIN_KEY>`; `app_id` (absent means this app), `user_id`, `referrer_type`. Every authenticated call ' +
  'is stored durably and answered 200 at once (KAKAO_API.md 7.1: always): also for an unknown user, another app id, or parameters ' +
  'that name no user (recorded as invalid), which change nothing. A queue job applies UNLINK_WEBHOOK_POLICY to the link the user had ' +
  'when the call was received; a link made after it is not touched.';

@ApiTags(SWAGGER_TAGS.webhooks)
@Controller('webhooks/kakao')
@Public()
export class KakaoWebhooksController {
  constructor(
    private readonly webhooks: KakaoWebhooksService,
    private readonly verifier: KakaoIdTokenVerifier,
  ) {}

  @Get('unlink')
  @HttpCode(200)
  @UseGuards(KakaoAdminKeyGuard)
  @ApiOperation({ summary: 'Kakao’s unlink webhook (GET, parameters in the query)', description: UNLINK_DESCRIPTION })
  @ApiQuery({ name: 'app_id', required: false, example: '1234567', description: 'Absent means this app' })
  @ApiQuery({ name: 'user_id', required: true, example: '4000000000000000003', description: 'The Kakao user id' })
  @ApiQuery({ name: 'referrer_type', required: false, example: 'UNLINK_FROM_APPS' })
  @ApiHeader({ name: 'authorization', description: 'KakaoAK <KAKAO_ADMIN_KEY>', required: true })
  @ApiOkResponse({ description: 'Received (processing follows)' })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'WEBHOOK_UNAUTHORIZED' })
  async unlinkByGet(@Req() request: FastifyRequest): Promise<void> {
    await this.unlink({ params: rawQuery(request) });
  }

  @Post('unlink')
  @HttpCode(200)
  @UseGuards(KakaoAdminKeyGuard)
  @ApiOperation({ summary: 'Kakao’s unlink webhook (POST, form or JSON body)', description: UNLINK_DESCRIPTION })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        app_id: { type: 'string', example: '1234567', description: 'Absent means this app' },
        user_id: { type: 'string', example: '4000000000000000003', description: 'Also read exactly as a JSON number' },
        referrer_type: { type: 'string', example: 'UNLINK_FROM_APPS' },
        group_user_token: { type: 'string' },
      },
      required: ['user_id'],
    },
  })
  @ApiHeader({ name: 'authorization', description: 'KakaoAK <KAKAO_ADMIN_KEY>', required: true })
  @ApiOkResponse({ description: 'Received (processing follows)' })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'WEBHOOK_UNAUTHORIZED' })
  async unlinkByPost(@Req() request: FastifyRequest): Promise<void> {
    // The webhook intake (WebhooksModule) handed the body over raw: it is read here.
    const body = typeof request.body === 'string' ? request.body : undefined;
    await this.unlink(unlinkParams(rawQuery(request), body, originalContentType(request)));
  }

  @Post('account-events')
  @ApiOperation({
    summary: 'Kakao’s account status webhook: a Security Event Token (RFC 8417, pushed per RFC 8935)',
    description:
      'Body: the compact JWS, `Content-Type: application/secevent+jwt` (the token is read whatever the type), RS256 with Kakao’s JWKS, ' +
      'iss Kakao, aud our REST API key, iat within the last 29 days. user-unlinked and account-purged are handled like the unlink webhook; ' +
      'tokens-revoked, account-disabled, sessions-revoked, account-credential-change-required and credential-compromise end the member’s ' +
      'sessions and drop the stored Kakao tokens; token-revoked drops the stored Kakao tokens; others are recorded. A repeated jti is ' +
      'accepted once. An event applies to the link the user had when it was received.',
  })
  @ApiConsumes('application/secevent+jwt')
  @ApiBody({ schema: { type: 'string', example: 'eyJhbGciOiJSUzI1NiIsInR5cCI6InNlY2V2ZW50K2p3dCJ9…' } })
  @ApiAcceptedResponse({ description: 'Accepted' })
  @ApiBadRequestResponse({
    description:
      'RFC 8935 error: {err: invalid_request | invalid_key | invalid_issuer | invalid_audience, description}',
    schema: {
      type: 'object',
      properties: {
        err: {
          type: 'string',
          enum: ['invalid_request', 'invalid_key', 'invalid_issuer', 'invalid_audience'],
          example: 'invalid_key',
        },
        description: { type: 'string', example: 'The signature does not verify with Kakao’s keys' },
      },
      required: ['err', 'description'],
    },
  })
  async accountEvents(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const refuse = (err: string, description: string) => {
      this.webhooks.count('account_event', 'invalid');
      void reply.status(400).header('content-type', 'application/json').send({ err, description });
    };
    if (typeof request.body !== 'string') {
      return refuse('invalid_request', 'The body must be a SET (application/secevent+jwt)');
    }
    let claims;
    try {
      claims = await this.verifier.verifySecurityEvent(request.body.trim());
    } catch (err) {
      if (err instanceof SecurityEventInvalid) return refuse(err.err, err.description);
      throw err;
    }
    const timeProblem = setTimeProblem(claims, Math.floor(Date.now() / 1000));
    if (timeProblem) return refuse('invalid_request', timeProblem);
    await this.webhooks.receiveAccountEvent(claims);
    void reply.status(202).send();
  }

  /** Every authenticated call is answered 200 (KAKAO_API.md 7.1); one that names no user is recorded as invalid. */
  private async unlink(read: { params: Record<string, unknown> } | { problem: string }): Promise<void> {
    if ('problem' in read) {
      await this.webhooks.receiveInvalidUnlink({ problems: [read.problem], userId: null, referrerType: null });
      return;
    }
    const call = parseUnlinkCall(read.params);
    if ('problems' in call) await this.webhooks.receiveInvalidUnlink(call);
    else await this.webhooks.receiveUnlink(call);
  }
}

/**
 * The query as sent, past the global validation pipe: that pipe answers 400 to a parameter it cannot take
 * (U+0000), and every authenticated unlink call must be answered 200 (KAKAO_API.md 7.1).
 */
function rawQuery(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}
