import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe } from '@nestjs/common';
import { RequestId } from '../common/http/received-at';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AppException, ErrorResponse } from '../common/errors';
import { SWAGGER_TAGS } from '../swagger';
import { CurrentPrincipal, type Principal } from '../tokens/principal';
import { ServiceAuth } from '../tokens/service-client.guard';
import { MemberDto, toMemberDto } from './dto/member.dto';
import { MembersService } from './members.service';

// Member ids are UUIDs (v4); anything else names no member, which is what the caller is told (API.md: NOT_FOUND).
const MEMBER_ID = new ParseUUIDPipe({
  version: '4',
  exceptionFactory: () => new AppException('NOT_FOUND', 'No member with this id'),
});

@ApiTags(SWAGGER_TAGS.members)
@Controller('members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get('me')
  @ApiBearerAuth('bearer')
  @ApiOperation({ summary: 'The signed-in member' })
  @ApiOkResponse({ type: MemberDto })
  @ApiUnauthorizedResponse({ type: ErrorResponse, description: 'UNAUTHENTICATED or TOKEN_EXPIRED' })
  async me(@CurrentPrincipal() principal: Principal): Promise<MemberDto> {
    return toMemberDto(await this.members.get(principal.memberId));
  }

  @Delete('me')
  @HttpCode(204)
  @ApiBearerAuth('bearer')
  @ApiOperation({
    summary: 'Withdraw: Kakao unlink, every session revoked, personal data deleted',
    description: 'Needs an access token issued by a login or Kakao re-certification within the last 5 minutes.',
  })
  @ApiNoContentResponse({ description: 'Withdrawn' })
  @ApiForbiddenResponse({ type: ErrorResponse, description: 'RECERTIFICATION_REQUIRED' })
  async withdraw(@CurrentPrincipal() principal: Principal, @RequestId() requestId: string): Promise<void> {
    await this.members.withdraw(principal.memberId, principal.authTime, requestId);
  }

  @Delete('me/kakao')
  @HttpCode(204)
  @ApiBearerAuth('bearer')
  @ApiOperation({ summary: 'Unlink the Kakao account (at Kakao too); the member stays' })
  @ApiNoContentResponse({ description: 'Unlinked' })
  @ApiConflictResponse({ type: ErrorResponse, description: 'LAST_LOGIN_METHOD' })
  async unlinkKakao(@CurrentPrincipal() principal: Principal, @RequestId() requestId: string): Promise<void> {
    await this.members.unlinkKakao(principal.memberId, requestId);
  }

  @Get(':id')
  @ServiceAuth()
  @ApiOperation({ summary: 'A member by id, for other services (HTTP Basic, SERVICE_CLIENTS)' })
  @ApiParam({
    name: 'id',
    description: 'Member id (UUID v4); any other value answers NOT_FOUND',
    example: '3f2b8c1e-7d4a-4e9b-9c2d-5a6f7e8d9c0b',
  })
  @ApiOkResponse({ type: MemberDto })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'NOT_FOUND' })
  async byId(@Param('id', MEMBER_ID) id: string): Promise<MemberDto> {
    return toMemberDto(await this.members.get(id));
  }
}
