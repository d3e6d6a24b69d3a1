import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseInterceptors } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSeeOtherResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Public } from '../common/auth/public.decorator';
import { AppException, ErrorResponse } from '../common/errors';
import { RequestId } from '../common/http/received-at';
import { LimitFailuresPerAccount } from '../common/rate-limit/account-failures';
import { RateLimited } from '../common/rate-limit/rate-limit';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { KakaoClient } from '../kakao/kakao.client';
import { KakaoAccountReader } from './kakao-account.reader';
import { LoginOutcomeDto, MemberDto, toLoginOutcomeDto, toMemberDto } from '../members/dto/member.dto';
import { CurrentPrincipal, type Principal } from '../tokens/principal';
import type { LoginOutcome } from '../members/login-outcome';
import { SWAGGER_TAGS } from '../swagger';
import { bearerToken } from '../tokens/principal';
import { hashToken, SessionsService } from '../tokens/sessions.service';
import { ensureBinding, readBinding } from './binding-cookie';
import {
  AuthorizeUrlDto,
  AuthorizeUrlRequestDto,
  CallbackQueryDto,
  CodeLoginRequestDto,
  LinkConfirmRequestDto,
  LinkVerifyRequestDto,
  LoginQueryWithKakaoNamesDto,
  NativeLoginRequestDto,
  TicketExchangeRequestDto,
} from './dto/kakao-auth.dto';
import { KakaoLoginService } from './kakao-login.service';
import { KakaoPassport } from './kakao-passport';
import type { LoginRequestContext } from './kakao.strategy';
import { LoginTransactionsRepository } from './login-transactions.repository';
import { isAllowedReturnUrl, withParams } from './return-url';
import { IgnoreUnknownQuery } from './ignore-unknown-query';
import { TermsAgreeRequestDto } from '../terms/dto/terms.dto';
import { TermsCatalog } from '../terms/terms-catalog';

/**
 * Kakao's authorize errors (KAKAO_API.md 1) in our codes. `prompt=none` can only fail for want of an
 * interaction: Kakao documents `consent_required`; the OIDC siblings (OIDC Core 3.1.2.6) mean the same to
 * the front-end, which retries with the screen. Kakao's own trouble is not the caller's fault.
 */
export function kakaoAuthorizeErrorCode(
  error: string,
): 'KAKAO_ACCESS_DENIED' | 'KAKAO_CONSENT_REQUIRED' | 'KAKAO_UNAVAILABLE' | 'KAKAO_TOKEN_EXCHANGE_FAILED' {
  switch (error) {
    case 'access_denied':
      return 'KAKAO_ACCESS_DENIED';
    case 'consent_required':
    case 'login_required':
    case 'interaction_required':
    case 'account_selection_required':
      return 'KAKAO_CONSENT_REQUIRED';
    case 'server_error':
    case 'temporarily_unavailable':
      return 'KAKAO_UNAVAILABLE';
    default:
      return 'KAKAO_TOKEN_EXCHANGE_FAILED';
  }
}

const RECENT_AUTH_NEEDED =
  'RECERTIFICATION_REQUIRED: linking needs an authentication of the last 5 minutes (log in again, or re-certify with Kakao)';

@ApiTags(SWAGGER_TAGS.kakao)
@Controller('auth')
@Public()
export class KakaoAuthController {
  constructor(
    private readonly passport: KakaoPassport,
    private readonly logins: KakaoLoginService,
    private readonly transactions: LoginTransactionsRepository,
    private readonly sessions: SessionsService,
    private readonly kakao: KakaoClient,
    private readonly accounts: KakaoAccountReader,
    private readonly catalog: TermsCatalog,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get('kakao/login')
  @RateLimited()
  @ApiOperation({
    summary: 'Start a Kakao login (redirect flow)',
    description:
      '302 to Kakao with state, nonce and PKCE S256. The transaction is stored server-side and bound to this browser by an HttpOnly cookie; Kakao then redirects to /auth/kakao/callback.',
  })
  @ApiFoundResponse({ description: "Redirect to Kakao's authorize endpoint" })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'RETURN_URL_NOT_ALLOWED or VALIDATION_FAILED' })
  @UseInterceptors(new IgnoreUnknownQuery(LoginQueryWithKakaoNamesDto))
  async login(
    @Query() query: LoginQueryWithKakaoNamesDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { service_terms, ...rest } = query;
    const serviceTerms = [...new Set([...(rest.serviceTerms ?? []), ...(service_terms ?? [])])];
    const url = await this.start(request, reply, {
      intent: 'login',
      ...rest,
      serviceTerms: serviceTerms.length ? serviceTerms : undefined,
    });
    void reply.header('cache-control', 'no-store').redirect(url, 302);
  }

  @Post('kakao/authorize-url')
  @HttpCode(200)
  @RateLimited()
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'The same authorize URL, for front-ends that navigate themselves',
    description:
      'No token for intent login; the access token of the member for link and recertify (recertify forces prompt=login).',
  })
  @ApiOkResponse({ type: AuthorizeUrlDto })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'UNAUTHENTICATED for link/recertify without a token' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: `${RECENT_AUTH_NEEDED} (intent link)` })
  async authorizeUrl(
    @Body() body: AuthorizeUrlRequestDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuthorizeUrlDto> {
    let memberId: string | undefined;
    let sessionId: string | undefined;
    if (body.intent !== 'login') {
      const token = bearerToken(request);
      if (!token) throw new AppException('UNAUTHENTICATED', `intent ${body.intent} needs the member's access token`);
      const claims = await this.sessions.authenticate(token);
      ({ sub: memberId, sid: sessionId } = claims);
      if (body.intent === 'link') await this.logins.assertCanLink(memberId, new Date(claims.auth_time * 1000));
    }
    const prompt = body.intent === 'recertify' ? 'login' : body.prompt;
    void reply.header('cache-control', 'no-store');
    return { url: await this.start(request, reply, { ...body, prompt, memberId, sessionId }) };
  }

  @Get('kakao/callback')
  @ApiOperation({
    summary: "Kakao's redirect back (redirect flow)",
    description:
      'Checks the state against the stored transaction and the browser cookie before calling Kakao, exchanges the code with the PKCE verifier, verifies the id_token, and decides the outcome. With a returnTo: 303 to it with ?ticket= (one-time, 60 s; exchange at POST /auth/tickets/exchange) or ?error=CODE. Without: the LoginOutcome as JSON.',
  })
  @ApiSeeOtherResponse({ description: 'Back to returnTo with ?ticket=… or ?error=…' })
  @ApiOkResponse({ type: LoginOutcomeDto })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'INVALID_STATE, STATE_EXPIRED' })
  @UseInterceptors(new IgnoreUnknownQuery(CallbackQueryDto))
  async callback(
    @Query() query: CallbackQueryDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @RequestId() requestId: string,
  ): Promise<void> {
    // Tokens and tickets pass through this response: never cached, never leaked through a Referer.
    void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    if (!query.state) throw new AppException('INVALID_STATE', 'The state parameter is missing');
    const binding = readBinding(request, this.config.http.publicUrl);
    const consumed = await this.transactions.consume(hashToken(query.state), binding ? hashToken(binding) : undefined);
    if (!('transaction' in consumed)) {
      throw new AppException('INVALID_STATE', 'Unknown, already used or foreign login state');
    }
    const tx = consumed.transaction;
    let outcome: LoginOutcome;
    try {
      if (!consumed.ok) {
        if (consumed.reason === 'expired')
          throw new AppException('STATE_EXPIRED', 'The login took too long; start again');
        throw new AppException('INVALID_STATE', 'Unknown, already used or foreign login state');
      }
      if (query.error) throw new AppException(kakaoAuthorizeErrorCode(query.error), `Kakao answered ${query.error}`);
      if (!query.code) throw new AppException('VALIDATION_FAILED', 'The code parameter is missing');
      // Checked before the code is spent at Kakao: a link or re-certification ends with the session that
      // started it (logged out, revoked everywhere, member deactivated).
      if (tx.sessionId && !(await this.sessions.isSessionLive(tx.sessionId, tx.memberId!))) {
        throw new AppException('UNAUTHENTICATED', 'The session that started this Kakao login has ended');
      }
      const { profile, kakaoTerms, tokens } = await this.passport.complete(query.code, query.state, tx);
      outcome = await this.logins.complete({
        profile,
        kakaoTerms,
        tokens,
        intent: tx.intent,
        memberId: tx.memberId,
        nonce: tx.nonce,
        requireIdToken: true,
        returnTo: tx.returnTo,
        transactionCreatedAt: tx.createdAt,
        // The browser that just proved its binding is the one a consentUrl sends back to Kakao.
        bindBrowser: () => this.bindBrowser(request, reply),
        requestId,
      });
    } catch (err) {
      // Once the transaction is known, so is where the front-end waits: every refusal goes back there.
      if (tx.returnTo && err instanceof AppException) {
        void reply.redirect(withParams(tx.returnTo, { error: err.code }), 303);
        return;
      }
      throw err;
    }
    if (tx.returnTo) {
      void reply.redirect(withParams(tx.returnTo, { ticket: await this.logins.issueTicket(outcome) }), 303);
      return;
    }
    void reply.status(200).send(toLoginOutcomeDto(outcome));
  }

  @Post('kakao/code')
  @HttpCode(200)
  @RateLimited()
  @ApiOperation({
    summary: 'Hybrid flow: a front-end got the code with Kakao’s JavaScript SDK and hands it over',
    description:
      'The redirect URI must be in ALLOWED_CODE_REDIRECT_URIS. Pass the PKCE verifier and nonce the front-end used, and a returnTo for where a consentUrl in the answer brings the browser back.',
  })
  @ApiOkResponse({ type: LoginOutcomeDto })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description: 'REDIRECT_URI_NOT_ALLOWED, RETURN_URL_NOT_ALLOWED, KAKAO_TOKEN_EXCHANGE_FAILED',
  })
  async code(
    @Body() body: CodeLoginRequestDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @RequestId() requestId: string,
  ): Promise<LoginOutcomeDto> {
    // Checked before the code is spent at Kakao: a refused returnTo must not cost the person their code.
    const returnTo = body.returnTo ?? undefined;
    this.assertReturnTo(returnTo);
    const { profile, kakaoTerms, tokens } = await this.logins.fromCode(body);
    return toLoginOutcomeDto(
      await this.logins.complete({
        profile,
        kakaoTerms,
        tokens,
        intent: 'login',
        returnTo,
        nonce: body.nonce,
        // The front-end's JavaScript SDK may have got the code, so its key can be the id_token's audience.
        audiences: [this.config.kakao.restApiKey, ...this.config.kakao.extraAudiences],
        requireIdToken: false,
        // The front-end's browser, as for POST /auth/kakao/authorize-url: the cookie comes with this answer.
        bindBrowser: () => this.bindBrowser(request, reply),
        requestId,
      }),
    );
  }

  @Post('kakao/native')
  @HttpCode(200)
  @RateLimited()
  @ApiOperation({
    summary: 'Native SDK flow: an app logged in with Kakao’s SDK and hands over its tokens',
    description:
      'The access token must belong to KAKAO_APP_ID (access_token_info); an id_token, when given, must verify with an audience from KAKAO_REST_API_KEY or KAKAO_EXTRA_AUDIENCES.',
  })
  @ApiOkResponse({ type: LoginOutcomeDto })
  @ApiUnauthorizedResponse({
    type: ErrorResponse,
    description: 'UNAUTHENTICATED (token of another app, or refused by Kakao), ID_TOKEN_INVALID',
  })
  @ApiForbiddenResponse({
    type: ErrorResponse,
    description:
      'KAKAO_ACCESS_DENIED (the Kakao account is dormant, restricted, under 14 or not linked), KAKAO_CONSENT_REQUIRED',
  })
  async native(@Body() body: NativeLoginRequestDto, @RequestId() requestId: string): Promise<LoginOutcomeDto> {
    const info = await this.kakao.getAccessTokenInfo(body.accessToken);
    if (info.app_id !== this.config.kakao.appId) {
      throw new AppException('UNAUTHENTICATED', 'The Kakao access token belongs to another app');
    }
    const { profile, kakaoTerms } = await this.accounts.read(body.accessToken, { tokenFromCaller: true });
    if (profile.kakaoId !== info.id)
      throw new AppException('UNAUTHENTICATED', 'The Kakao access token does not match its user');
    const tokens = {
      token_type: 'bearer',
      access_token: body.accessToken,
      expires_in: info.expires_in,
      id_token: body.idToken,
    };
    return toLoginOutcomeDto(
      await this.logins.complete({
        profile,
        kakaoTerms,
        tokens,
        intent: 'login',
        nonce: body.nonce,
        audiences: [this.config.kakao.restApiKey, ...this.config.kakao.extraAudiences],
        requireIdToken: false,
        requestId,
      }),
    );
  }

  @Post('tickets/exchange')
  @HttpCode(200)
  @RateLimited()
  @ApiOperation({ summary: 'Trade the one-time ticket of a redirect login for its LoginOutcome (60 s, single use)' })
  @ApiOkResponse({ type: LoginOutcomeDto })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'TICKET_INVALID' })
  async exchange(
    @Body() body: TicketExchangeRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginOutcomeDto> {
    void reply.header('cache-control', 'no-store');
    return this.logins.exchangeTicket(body.ticket);
  }

  @Post('link/confirm')
  @HttpCode(200)
  @RateLimited()
  @ApiTags(SWAGGER_TAGS.auth)
  @ApiOperation({ summary: 'Confirm the link offered by LINK_REQUIRED (single use, 10 minutes)' })
  @ApiOkResponse({ type: LoginOutcomeDto, description: 'LINKED' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'TICKET_INVALID' })
  async confirmLink(@Body() body: LinkConfirmRequestDto, @RequestId() requestId: string): Promise<LoginOutcomeDto> {
    return toLoginOutcomeDto(await this.logins.completeLink(body.linkTicket, undefined, requestId));
  }

  @Post('link/verify')
  @HttpCode(200)
  @RateLimited()
  @LimitFailuresPerAccount()
  @ApiTags(SWAGGER_TAGS.auth)
  @ApiOperation({
    summary: 'Prove the existing account with its password, then link (after VERIFICATION_REQUIRED)',
    description:
      'Rate limited per IP; wrong passwords also per account. A wrong password leaves the ticket usable until it expires.',
  })
  @ApiOkResponse({ type: LoginOutcomeDto, description: 'LINKED' })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'INVALID_CREDENTIALS' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'TICKET_INVALID' })
  async verifyLink(@Body() body: LinkVerifyRequestDto, @RequestId() requestId: string): Promise<LoginOutcomeDto> {
    return toLoginOutcomeDto(
      await this.logins.completeLink(body.linkTicket, { email: body.email, password: body.password }, requestId),
    );
  }

  @Post('terms/agree')
  @HttpCode(200)
  @RateLimited()
  @ApiTags(SWAGGER_TAGS.auth)
  @ApiOperation({
    summary: 'Agree, on the service’s page, to the terms a login is waiting for (after TERMS_REQUIRED)',
    description:
      '`tags` must include every tag of `missingTerms` and may add optional ones. Recorded with source `service`; after a Kakao login the terms are also agreed at Kakao (upgrade API). Then the login finishes: the LoginOutcome it would have had. The ticket is single use (10 minutes) and survives a request that fails validation.',
  })
  @ApiOkResponse({ type: LoginOutcomeDto })
  @ApiBadRequestResponse({
    type: ErrorResponse,
    description: 'TICKET_INVALID, UNKNOWN_TERM, VALIDATION_FAILED (a missing required term, named in details)',
  })
  async agreeTerms(@Body() body: TermsAgreeRequestDto, @RequestId() requestId: string): Promise<LoginOutcomeDto> {
    return toLoginOutcomeDto(await this.logins.agreeTerms(body.termsTicket, body.tags, requestId));
  }

  private assertReturnTo(returnTo: string | undefined): void {
    if (returnTo !== undefined && !isAllowedReturnUrl(returnTo, this.config.allowedReturnUrls)) {
      throw new AppException('RETURN_URL_NOT_ALLOWED', 'returnTo is not one of ALLOWED_RETURN_URLS');
    }
  }

  private async start(request: FastifyRequest, reply: FastifyReply, given: LoginRequestContext): Promise<string> {
    // JSON `null` passes @IsOptional: an optional field sent as null is the same as one not sent.
    const context = Object.fromEntries(
      Object.entries(given).filter(([, value]) => value !== null),
    ) as LoginRequestContext;
    this.assertReturnTo(context.returnTo);
    if (context.serviceTerms?.length) {
      const tags = this.catalog.known(context.serviceTerms);
      // Kakao cannot show its consent screen without a required term in service_terms (KAKAO_API.md 1).
      if (!tags.some((t) => this.catalog.get(t)!.required)) {
        throw new AppException('VALIDATION_FAILED', 'serviceTerms must include at least one required term', {
          serviceTerms: tags,
        });
      }
    }
    const binding = this.bindBrowser(request, reply);
    // OIDC nonce (≥128 bits): binds the id_token to this transaction.
    const nonce = randomBytes(32).toString('base64url');
    return this.passport.authorizeUrl(context, binding, nonce);
  }

  private bindBrowser(request: FastifyRequest, reply: FastifyReply): string {
    return ensureBinding(request, reply, this.config.http.publicUrl);
  }
}

/** Linking from "my page" with a code the front-end got from Kakao's JavaScript SDK. */
@ApiTags(SWAGGER_TAGS.members)
@Controller('members')
export class MemberKakaoController {
  constructor(
    private readonly logins: KakaoLoginService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Post('me/kakao')
  @HttpCode(200)
  @ApiBearerAuth('bearer')
  @ApiOperation({ summary: 'Link the Kakao account behind a code (hybrid flow) to the signed-in member' })
  @ApiOkResponse({ type: MemberDto })
  @ApiConflictResponse({ type: ErrorResponse, description: 'KAKAO_ALREADY_LINKED or MEMBER_ALREADY_HAS_KAKAO' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: RECENT_AUTH_NEEDED })
  async link(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CodeLoginRequestDto,
    @RequestId() requestId: string,
  ): Promise<MemberDto> {
    await this.logins.assertCanLink(principal.memberId, principal.authTime);
    const { profile, kakaoTerms, tokens } = await this.logins.fromCode(body);
    const outcome = await this.logins.complete({
      profile,
      kakaoTerms,
      tokens,
      intent: 'link',
      memberId: principal.memberId,
      nonce: body.nonce,
      audiences: [this.config.kakao.restApiKey, ...this.config.kakao.extraAudiences],
      requireIdToken: false,
      // The member is signed in already and gets only the Member back: no second session.
      startSession: false,
      requestId,
    });
    return toMemberDto(outcome.member!);
  }
}
