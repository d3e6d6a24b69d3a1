import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Public } from '../common/auth/public.decorator';
import { SWAGGER_TAGS } from '../swagger';
import { ErrorResponse } from '../common/errors';
import { RequestId } from '../common/http/received-at';
import { LimitFailuresPerAccount } from '../common/rate-limit/account-failures';
import { RateLimited } from '../common/rate-limit/rate-limit';
import { EmailTokenRequestDto, LoginRequestDto, SignupRequestDto } from './dto/email-auth.dto';
import { LoginOutcomeDto, toLoginOutcomeDto } from './dto/member.dto';
import { MembersService } from './members.service';

@ApiTags(SWAGGER_TAGS.auth)
@Controller('auth')
@Public()
export class EmailAuthController {
  constructor(private readonly members: MembersService) {}

  @Post('signup')
  @HttpCode(201)
  @RateLimited()
  @ApiOperation({ summary: 'Sign up with email and password', description: 'A verification mail is queued.' })
  @ApiCreatedResponse({ type: LoginOutcomeDto, description: 'SIGNED_UP' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'EMAIL_TAKEN' })
  async signup(@Body() body: SignupRequestDto, @RequestId() requestId: string): Promise<LoginOutcomeDto> {
    return toLoginOutcomeDto(await this.members.signup(body, requestId));
  }

  @Post('login')
  @HttpCode(200)
  @RateLimited()
  @LimitFailuresPerAccount()
  @ApiOperation({
    summary: 'Log in with email and password',
    description:
      'LOGGED_IN, or DEACTIVATED_MEMBER with a reactivation mail queued. Rate limited per IP; wrong passwords also per account.',
  })
  @ApiOkResponse({ type: LoginOutcomeDto })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'INVALID_CREDENTIALS' })
  async login(@Body() body: LoginRequestDto, @RequestId() requestId: string): Promise<LoginOutcomeDto> {
    return toLoginOutcomeDto(await this.members.login(body, requestId));
  }

  @Post('email/verify')
  @HttpCode(204)
  @RateLimited()
  @ApiOperation({ summary: 'Confirm an email address with the token from the verification mail' })
  @ApiNoContentResponse({ description: 'Verified' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'TICKET_INVALID' })
  async verifyEmail(@Body() body: EmailTokenRequestDto, @RequestId() requestId: string): Promise<void> {
    await this.members.verifyEmail(body.token, requestId);
  }

  @Post('reactivate')
  @HttpCode(200)
  @RateLimited()
  @ApiOperation({ summary: 'Reactivate a deactivated member with the token from the reactivation mail' })
  @ApiOkResponse({ type: LoginOutcomeDto, description: 'LOGGED_IN' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'TICKET_INVALID' })
  async reactivate(@Body() body: EmailTokenRequestDto, @RequestId() requestId: string): Promise<LoginOutcomeDto> {
    return toLoginOutcomeDto(await this.members.reactivate(body.token, requestId));
  }
}
