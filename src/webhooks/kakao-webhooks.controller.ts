import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/auth/public.decorator';
import { AppException, ErrorResponse } from '../common/errors';
import { KakaoIdTokenVerifier, SecurityEventInvalid } from '../kakao/kakao-id-token.verifier';
import { SWAGGER_TAGS } from '../swagger';
import { KakaoAdminKeyGuard } from './kakao-admin-key.guard';
import { parseUnlinkCall } from './kakao-webhook-events';
import { KakaoWebhooksService } from './kakao-webhooks.service';

const UNLINK_DESCRIPTION =
  'Kakao calls this when a person unlinks the app in "Manage Connected Services" or their account is deleted (KAKAO_API.md 7.1). ' +
  '`Authorization: KakaoAK <KAKAO_ADMIN_KEY>`; `app_id`, `user_id`, `referrer_type`. The call is stored durably and answered 200 at once ' +
  '(also for an unknown user, a duplicate, or another app id, which changes nothing); a queue job applies UNLINK_WEBHOOK_POLICY.';

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
  @ApiHeader({ name: 'authorization', description: 'KakaoAK <KAKAO_ADMIN_KEY>', required: true })
  @ApiOkResponse({ description: 'Received (processing follows)' })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'WEBHOOK_UNAUTHORIZED' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'VALIDATION_FAILED (missing or malformed parameters)' })
  async unlinkByGet(@Query() query: Record<string, unknown>): Promise<void> {
    await this.unlink(query);
  }

  @Post('unlink')
  @HttpCode(200)
  @UseGuards(KakaoAdminKeyGuard)
  @ApiOperation({ summary: 'Kakao’s unlink webhook (POST, form or JSON body)', description: UNLINK_DESCRIPTION })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiHeader({ name: 'authorization', description: 'KakaoAK <KAKAO_ADMIN_KEY>', required: true })
  @ApiOkResponse({ description: 'Received (processing follows)' })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'WEBHOOK_UNAUTHORIZED' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'VALIDATION_FAILED (missing or malformed parameters)' })
  async unlinkByPost(@Body() body: unknown, @Query() query: Record<string, unknown>): Promise<void> {
    const fields = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    await this.unlink({ ...query, ...fields });
  }

  @Post('account-events')
  @ApiOperation({
    summary: 'Kakao’s account status webhook: a Security Event Token (RFC 8417, pushed per RFC 8935)',
    description:
      'Body: the compact JWS, `Content-Type: application/secevent+jwt`, RS256 with Kakao’s JWKS, iss Kakao, aud our REST API key. ' +
      'user-unlinked is handled like the unlink webhook; tokens-revoked, account-disabled, sessions-revoked, account-credential-change-required ' +
      'and credential-compromise end the member’s sessions and drop the stored Kakao tokens; others are recorded. A repeated jti is accepted once.',
  })
  @ApiConsumes('application/secevent+jwt')
  @ApiBody({ schema: { type: 'string', example: 'eyJhbGciOiJSUzI1NiIsInR5cCI6InNlY2V2ZW50K2p3dCJ9…' } })
  @ApiAcceptedResponse({ description: 'Accepted' })
  @ApiBadRequestResponse({
    description:
      'RFC 8935 error: {err: invalid_request | invalid_key | invalid_issuer | invalid_audience, description}',
  })
  async accountEvents(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const refuse = (err: string, description: string) => {
      this.webhooks.count('account_event', 'invalid');
      void reply.status(400).header('content-type', 'application/json').send({ err, description });
    };
    const type = String(request.headers['content-type'] ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    if (type !== 'application/secevent+jwt' || typeof request.body !== 'string') {
      return refuse('invalid_request', 'The body must be a SET with Content-Type application/secevent+jwt');
    }
    let claims;
    try {
      claims = await this.verifier.verifySecurityEvent(request.body.trim());
    } catch (err) {
      if (err instanceof SecurityEventInvalid) return refuse(err.err, err.description);
      throw err;
    }
    await this.webhooks.receiveAccountEvent(claims);
    void reply.status(202).send();
  }

  private async unlink(params: Record<string, unknown>): Promise<void> {
    const call = parseUnlinkCall(params);
    if ('problems' in call) {
      this.webhooks.count('unlink', 'invalid');
      throw new AppException('VALIDATION_FAILED', call.problems.join('; '), { problems: call.problems });
    }
    await this.webhooks.receiveUnlink(call);
  }
}
