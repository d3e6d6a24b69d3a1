import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBadGatewayResponse,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { Public } from '../common/auth/public.decorator';
import { ErrorResponse } from '../common/errors';
import { RequestId } from '../common/http/received-at';
import { SWAGGER_TAGS } from '../swagger';
import { CurrentPrincipal, type Principal } from '../tokens/principal';
import { AgreeTermsRequestDto, MemberTermsDto, TermDto, toMemberTermsDto, toTermDto } from './dto/terms.dto';
import { TermsCatalog } from './terms-catalog';
import { TermsService } from './terms.service';

@ApiTags(SWAGGER_TAGS.terms)
@Controller()
export class TermsController {
  constructor(
    private readonly catalog: TermsCatalog,
    private readonly terms: TermsService,
  ) {}

  @Get('terms')
  @Public()
  @ApiOperation({ summary: 'The catalog: the terms registered in the Kakao console (TERMS_CATALOG_FILE)' })
  @ApiOkResponse({ type: TermDto, isArray: true })
  list(): TermDto[] {
    return this.catalog.all().map(toTermDto);
  }

  @Get('members/me/terms')
  @ApiBearerAuth('bearer')
  @ApiOperation({ summary: 'The member’s terms: current state per tag and the history of every change' })
  @ApiOkResponse({ type: MemberTermsDto })
  async mine(@CurrentPrincipal() principal: Principal): Promise<MemberTermsDto> {
    return toMemberTermsDto(await this.terms.view(principal.memberId));
  }

  @Post('members/me/terms')
  @HttpCode(200)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'Agree on the service’s own pages',
    description: 'Recorded with source `service`; for a member with Kakao, also agreed at Kakao (upgrade API).',
  })
  @ApiOkResponse({ type: MemberTermsDto })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'UNKNOWN_TERM, VALIDATION_FAILED' })
  async agree(
    @CurrentPrincipal() principal: Principal,
    @Body() body: AgreeTermsRequestDto,
    @RequestId() requestId: string,
  ): Promise<MemberTermsDto> {
    return toMemberTermsDto(await this.terms.agreeOnPage(principal.memberId, body.tags, requestId));
  }

  @Post('members/me/terms/sync')
  @HttpCode(200)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'Read the member’s agreements from Kakao again (/v2/user/service_terms)',
    description:
      'When the user is no longer linked to the app at Kakao (-101), Kakao holds no agreement: the optional consents given through Kakao Sync lapse as with an unlink, required terms stand.',
  })
  @ApiOkResponse({ type: MemberTermsDto })
  @ApiBadGatewayResponse({ type: ErrorResponse, description: 'KAKAO_UNAVAILABLE (the state is marked stale)' })
  async sync(@CurrentPrincipal() principal: Principal, @RequestId() requestId: string): Promise<MemberTermsDto> {
    return toMemberTermsDto(await this.terms.syncNow(principal.memberId, requestId));
  }

  @Delete('members/me/terms/:tag')
  @HttpCode(204)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'Revoke an optional term',
    description:
      'Revoked at Kakao too (/v2/user/revoke/service_terms) when Kakao holds the agreement; The user no longer linked to the app at Kakao (-101) counts as revoked there. A term not agreed is a no-op.',
  })
  @ApiParam({ name: 'tag', description: 'Tag of an optional, revocable term of the catalog', example: 'marketing' })
  @ApiNoContentResponse({ description: 'Revoked (or was not agreed)' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'TERM_NOT_REVOCABLE' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'UNKNOWN_TERM' })
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('tag') tag: string,
    @RequestId() requestId: string,
  ): Promise<void> {
    await this.terms.revoke(principal.memberId, tag, requestId);
  }
}
