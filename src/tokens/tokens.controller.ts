import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { Public } from '../common/auth/public.decorator';
import { SWAGGER_TAGS } from '../swagger';
import { AppException, ErrorResponse } from '../common/errors';
import { ReceivedAt, RequestId } from '../common/http/received-at';
import { RateLimited } from '../common/rate-limit/rate-limit';
import { AccessTokenService } from './access-token.service';
import {
  IntrospectionDto,
  IntrospectRequestDto,
  LogoutRequestDto,
  RefreshRequestDto,
  TokenPairDto,
} from './dto/tokens.dto';
import { bearerToken } from './principal';
import { ServiceAuth } from './service-client.guard';
import { Introspection, SessionsService, TokenPair } from './sessions.service';

@ApiTags(SWAGGER_TAGS.tokens)
@Controller('auth')
export class TokensController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokenService,
  ) {}

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @RateLimited()
  @ApiOperation({
    summary: 'Trade a refresh token for a new pair',
    description:
      'The refresh token is spent; the answer carries its successor. Presenting a spent token again revokes every token of its session (REFRESH_TOKEN_REUSED).',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'REFRESH_TOKEN_INVALID or REFRESH_TOKEN_REUSED' })
  refresh(
    @Body() body: RefreshRequestDto,
    @ReceivedAt() arrivedAt: number,
    @RequestId() requestId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPair> {
    // When the answer has left (or the client went away): from then on the successor may be in hand.
    const delivered = new Promise<number>((resolve) => {
      const done = () => resolve(performance.now());
      reply.raw.once('finish', done);
      reply.raw.once('close', done);
    });
    return this.sessions.refresh(body.refreshToken, { arrivedAt, delivered }, requestId);
  }

  /**
   * Public at the guard: logging out must work with the access token of a session that is already revoked.
   * The token's signature is still verified here.
   */
  @Post('logout')
  @Public()
  @HttpCode(204)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'End the session (or every session with everywhere: true)',
    description:
      'Unknown or already revoked tokens still get 204. Needs the access token, or the refresh token in the body.',
  })
  @ApiBody({ type: LogoutRequestDto, required: false })
  @ApiNoContentResponse({ description: 'Logged out' })
  @ApiUnauthorizedResponse({
    type: ErrorResponse,
    description: 'UNAUTHENTICATED: neither a valid access token nor a refresh token',
  })
  async logout(
    @Req() request: FastifyRequest,
    @Body() body: LogoutRequestDto,
    @RequestId() requestId: string,
  ): Promise<void> {
    const token = bearerToken(request);
    let caller: { memberId: string; sessionId: string } | undefined;
    if (token) {
      try {
        const claims = this.accessTokens.verify(token);
        caller = { memberId: claims.sub, sessionId: claims.sid };
      } catch (err) {
        // An expired access token beside a refresh token: the refresh token is proof enough. A malformed or
        // forged one is still refused: that is a client bug or an attack, not a session that aged.
        const expired = err instanceof AppException && err.code === 'TOKEN_EXPIRED';
        if (!expired || !body.refreshToken) throw err;
      }
    } else if (!body.refreshToken) {
      throw new AppException('UNAUTHENTICATED', 'An access token or a refresh token is required');
    }
    await this.sessions.logout(caller, { refreshToken: body.refreshToken, everywhere: body.everywhere, requestId });
  }

  @Post('introspect')
  @ServiceAuth()
  @HttpCode(200)
  @ApiOperation({ summary: 'RFC 7662 style introspection of an access token, for other services' })
  @ApiOkResponse({ type: IntrospectionDto })
  introspect(@Body() body: IntrospectRequestDto): Promise<Introspection> {
    return this.sessions.introspect(body.token);
  }
}
