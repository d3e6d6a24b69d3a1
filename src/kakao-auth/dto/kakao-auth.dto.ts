import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { LoginRequestDto } from '../../members/dto/email-auth.dto';
import { TAG_PATTERN } from '../../terms/terms-catalog';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidationArguments,
} from 'class-validator';

export const PROMPTS = ['none', 'login', 'select_account', 'create'] as const;
const ITEM = /^[a-z0-9_]{1,64}$/;

/** `a,b c` → ['a','b','c']: Kakao takes comma- or space-separated lists. */
const splitList = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;

export class LoginQueryDto {
  @ApiPropertyOptional({ example: 'http://localhost:5173/auth/done', description: 'Must match ALLOWED_RETURN_URLS' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  returnTo?: string;

  @ApiPropertyOptional({
    enum: PROMPTS,
    example: 'none',
    description: '`none` for auto-login in the KakaoTalk in-app browser',
  })
  @IsOptional()
  @IsIn(PROMPTS)
  prompt?: (typeof PROMPTS)[number];

  @ApiPropertyOptional({ example: 'account_email,gender', description: 'Additional consent items' })
  @IsOptional()
  @Transform(splitList)
  @IsArray()
  @ArrayMaxSize(30)
  @Matches(ITEM, { each: true })
  scope?: string[];

  @ApiPropertyOptional({ example: 'service_2024,privacy_2024', description: 'Kakao Sync terms tags to show' })
  @IsOptional()
  @Transform(splitList)
  @IsArray()
  @ArrayMaxSize(30)
  @Matches(TAG_PATTERN, { each: true })
  serviceTerms?: string[];
}

export class LoginQueryWithKakaoNamesDto extends LoginQueryDto {
  @ApiPropertyOptional({
    example: 'privacy_2024',
    description: 'Kakao’s own name for serviceTerms (the consentUrl of TERMS_REQUIRED uses it)',
  })
  @IsOptional()
  @Transform(splitList)
  @IsArray()
  @ArrayMaxSize(30)
  @Matches(TAG_PATTERN, { each: true })
  service_terms?: string[];
}

export class AuthorizeUrlRequestDto extends LoginQueryDto {
  @ApiProperty({ enum: ['login', 'link', 'recertify'], example: 'login' })
  @IsIn(['login', 'link', 'recertify'])
  intent!: 'login' | 'link' | 'recertify';
}

export class AuthorizeUrlDto {
  @ApiProperty({
    example:
      'https://kauth.kakao.com/oauth/authorize?response_type=code&client_id=…&state=…&nonce=…&code_challenge=…&code_challenge_method=S256',
  })
  url!: string;
}

export class CallbackQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  code?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(512)
  state?: string;

  @ApiPropertyOptional({ example: 'access_denied' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  error?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  error_description?: string;
}

export class CodeLoginRequestDto {
  // Empty strings are refused here: sent on, they only earned Kakao's refusal of the exchange (KOE320).
  @ApiProperty({ example: 'Aq0FvR0rbKsAmFQYl_Nt7tUsngr803Dp…' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2048)
  code!: string;

  @ApiProperty({
    example: 'http://localhost:5173/kakao/callback',
    description: 'Must be in ALLOWED_CODE_REDIRECT_URIS',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2048)
  redirectUri!: string;

  @ApiPropertyOptional({ example: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._~-]{43,128}$/)
  codeVerifier?: string;

  @ApiPropertyOptional({ example: 'n-0S6_WzA2Mj' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  nonce?: string;

  @ApiPropertyOptional({
    example: 'http://localhost:5173/auth/done',
    description:
      'Must match ALLOWED_RETURN_URLS. Where a consentUrl of this login (MANDATORY_ITEMS_NOT_AGREED, TERMS_REQUIRED, also after a link) brings the browser back, with ?ticket=… or ?error=…; without it, that Kakao login ends on the callback’s JSON.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  returnTo?: string;
}

/** A nonce is checked against the id_token that carries it: without one it would be silently ignored. */
const WithIdToken = () =>
  ValidateBy({
    name: 'withIdToken',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) => {
        const idToken = (args?.object as { idToken?: unknown } | undefined)?.idToken;
        return idToken !== undefined && idToken !== null;
      },
      defaultMessage: () => 'nonce can only be checked against an idToken: send the idToken it was issued with',
    },
  });

export class NativeLoginRequestDto {
  @ApiProperty({ example: 'waizjTni01I3-ODHM65TkWX6al1fbXZXAAAAAQoXEC8AAAGV1kYOqS2N1GIgzv2p' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2048)
  // It travels to Kakao in an Authorization header: RFC 6750's b64token, or fetch refuses the header and the
  // caller's typo looked like Kakao being down (502).
  @Matches(/^[A-Za-z0-9._~+/-]+=*$/, { message: 'accessToken must be a Kakao access token' })
  accessToken!: string;

  @ApiPropertyOptional({
    example: 'eyJraWQiOiI5ZjI1MmRhZGQ1ZjIzM2Y5M2QyZmE1MjhkMTJmZWEiLCJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9…',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(8192)
  idToken?: string;

  @ApiPropertyOptional({ example: 'n-0S6_WzA2Mj', description: 'Only with idToken: the nonce it must carry' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  @WithIdToken()
  nonce?: string;
}

export class TicketExchangeRequestDto {
  @ApiProperty({ example: 'b2b0V0m3c0l3Yq8l3mZ2o5r1h4x6s9d7f8g0j1k2l3m' })
  @IsString()
  @MaxLength(256)
  ticket!: string;
}

export class LinkConfirmRequestDto {
  @ApiProperty({ example: 'x3b0VmQ1c2l3Yq8l3mZ2o5r1h4x6s9d7f8g0j1k2l3m' })
  @IsString()
  @MaxLength(256)
  linkTicket!: string;
}

/** The link ticket plus the existing account's email and password (same rules as a password login). */
export class LinkVerifyRequestDto extends IntersectionType(LinkConfirmRequestDto, LoginRequestDto) {}
