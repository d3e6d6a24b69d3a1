import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { loginMethods, Member } from '../member';
import type { LoginOutcome, LoginResult } from '../login-outcome';
import { TokenPairDto } from '../../tokens/dto/tokens.dto';

export class MemberProfileDto {
  @ApiProperty({ example: '라이언', nullable: true, type: String })
  nickname!: string | null;
  @ApiProperty({ example: 'https://k.kakaocdn.net/dn/abc/img_640x640.jpg', nullable: true, type: String })
  profileImageUrl!: string | null;
  @ApiProperty({ example: 'https://k.kakaocdn.net/dn/abc/img_110x110.jpg', nullable: true, type: String })
  thumbnailImageUrl!: string | null;
  @ApiProperty({ example: 'female', nullable: true, type: String, enum: ['female', 'male'] })
  gender!: string | null;
  @ApiProperty({ example: '20~29', nullable: true, type: String })
  ageRange!: string | null;
  @ApiProperty({ example: '1990', nullable: true, type: String })
  birthyear!: string | null;
  @ApiProperty({ example: '0130', nullable: true, type: String, description: 'MMDD' })
  birthday!: string | null;
  @ApiProperty({ example: 'SOLAR', nullable: true, type: String, enum: ['SOLAR', 'LUNAR'] })
  birthdayType!: string | null;
  @ApiProperty({ example: false, nullable: true, type: Boolean })
  isLeapMonth!: boolean | null;
  @ApiProperty({ example: '+821012345678', nullable: true, type: String, description: 'E.164' })
  phoneNumber!: string | null;
}

export class MemberIdentityDto {
  @ApiProperty({ example: 'kakao', enum: ['kakao'] })
  provider!: 'kakao';
  @ApiProperty({ example: '4000000000000001001', description: 'A string: Kakao ids exceed 2^53' })
  providerUserId!: string;
  @ApiProperty({ example: '2026-11-01T09:00:00.000Z', nullable: true, type: String })
  connectedAt!: string | null;
  @ApiProperty({ example: '2026-11-01T09:00:00.000Z' })
  linkedAt!: string;
}

export class MemberDto {
  @ApiProperty({ example: '0b6f3c1e-7a52-4c0e-9d3e-1f2a3b4c5d6e' })
  id!: string;
  @ApiProperty({ example: 'hong@example.com', nullable: true, type: String })
  email!: string | null;
  @ApiProperty({ example: true })
  emailVerified!: boolean;
  @ApiProperty({ example: '홍길동', nullable: true, type: String })
  name!: string | null;
  @ApiProperty({ example: 'active', enum: ['active', 'deactivated', 'withdrawn'] })
  status!: string;
  @ApiProperty({ example: '2026-11-01T09:00:00.000Z' })
  createdAt!: string;
  @ApiProperty({ example: ['password', 'kakao'], isArray: true, enum: ['password', 'kakao'] })
  loginMethods!: string[];
  @ApiProperty({ type: MemberProfileDto })
  profile!: MemberProfileDto;
  @ApiProperty({ type: MemberIdentityDto, isArray: true })
  identities!: MemberIdentityDto[];
}

export class CandidateDto {
  @ApiProperty({ example: 'ho***@ex***.com', nullable: true, type: String })
  maskedEmail!: string | null;
  @ApiProperty({ example: '홍*동', nullable: true, type: String })
  maskedName!: string | null;
}

export class LoginOutcomeDto {
  @ApiProperty({
    example: 'LOGGED_IN',
    enum: [
      'LOGGED_IN',
      'SIGNED_UP',
      'LINKED',
      'RECERTIFIED',
      'LINK_REQUIRED',
      'VERIFICATION_REQUIRED',
      'MANDATORY_ITEMS_NOT_AGREED',
      'TERMS_REQUIRED',
      'DEACTIVATED_MEMBER',
    ],
  })
  result!: LoginResult;
  @ApiPropertyOptional({ type: TokenPairDto })
  tokens?: TokenPairDto;
  @ApiPropertyOptional({ type: MemberDto })
  member?: MemberDto;
  @ApiPropertyOptional({
    example: 'lt_3q2n…',
    description: 'LINK_REQUIRED / VERIFICATION_REQUIRED: single use, 10 minutes',
  })
  linkTicket?: string;
  @ApiPropertyOptional({ type: CandidateDto })
  candidate?: CandidateDto;
  @ApiPropertyOptional({ example: ['account_email'], isArray: true, type: String })
  missingItems?: string[];
  @ApiPropertyOptional({ example: 'tt_8f1c…' })
  termsTicket?: string;
  @ApiPropertyOptional({ example: ['service_2024'], isArray: true, type: String })
  missingTerms?: string[];
  @ApiPropertyOptional({ example: 'https://kauth.kakao.com/oauth/authorize?client_id=…&scope=account_email' })
  consentUrl?: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The Member shape of API.md. */
export function toMemberDto(member: Member): MemberDto {
  const p = member.profile;
  return {
    id: member.id,
    email: member.email,
    emailVerified: member.emailVerified,
    name: member.name,
    status: member.status,
    createdAt: member.createdAt.toISOString(),
    loginMethods: loginMethods(member),
    profile: {
      nickname: p.nickname ?? null,
      profileImageUrl: p.profileImageUrl ?? null,
      thumbnailImageUrl: p.thumbnailImageUrl ?? null,
      gender: p.gender ?? null,
      ageRange: p.ageRange ?? null,
      birthyear: p.birthyear ?? null,
      birthday: p.birthday ?? null,
      birthdayType: p.birthdayType ?? null,
      isLeapMonth: p.isLeapMonth ?? null,
      phoneNumber: p.phoneNumber ?? null,
    },
    identities: member.identities.map((i) => ({
      provider: i.provider,
      providerUserId: i.providerUserId,
      connectedAt: iso(i.connectedAt),
      linkedAt: i.linkedAt.toISOString(),
    })),
  };
}

export function toLoginOutcomeDto(outcome: LoginOutcome): LoginOutcomeDto {
  const { member, ...rest } = outcome;
  return { ...rest, ...(member ? { member: toMemberDto(member) } : {}) };
}
