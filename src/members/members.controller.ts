import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponse } from '../common/errors';
import { SWAGGER_TAGS } from '../swagger';
import { CurrentPrincipal, type Principal } from '../tokens/principal';
import { ServiceAuth } from '../tokens/service-client.guard';
import { MemberDto, toMemberDto } from './dto/member.dto';
import { MembersService } from './members.service';

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

  @Get(':id')
  @ServiceAuth()
  @ApiOperation({ summary: 'A member by id, for other services (HTTP Basic, SERVICE_CLIENTS)' })
  @ApiOkResponse({ type: MemberDto })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'NOT_FOUND' })
  async byId(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<MemberDto> {
    return toMemberDto(await this.members.get(id));
  }
}
