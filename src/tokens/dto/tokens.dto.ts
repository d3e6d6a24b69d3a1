import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export class TokenPairDto {
  @ApiProperty({ example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2ln' })
  accessToken!: string;

  @ApiProperty({ example: 'hC3u0bM1mXj8kq6o2V9y0fJx4Tn7rWq5aZ1sD8eL2gU', description: 'Opaque, single use' })
  refreshToken!: string;

  @ApiProperty({ example: 'Bearer', enum: ['Bearer'] })
  tokenType!: 'Bearer';

  @ApiProperty({ example: 900, description: 'Seconds until the access token expires' })
  expiresIn!: number;
}

export class RefreshRequestDto {
  @ApiProperty({ example: 'hC3u0bM1mXj8kq6o2V9y0fJx4Tn7rWq5aZ1sD8eL2gU' })
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  refreshToken!: string;
}

export class LogoutRequestDto {
  @ApiPropertyOptional({
    example: 'hC3u0bM1mXj8kq6o2V9y0fJx4Tn7rWq5aZ1sD8eL2gU',
    description: 'Also ends this token’s session',
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refreshToken?: string;

  @ApiPropertyOptional({ example: false, description: 'End every session of the member' })
  @IsOptional()
  @IsBoolean()
  everywhere?: boolean;
}

export class IntrospectRequestDto {
  // No length limit of its own (the body limit caps it): RFC 7662 answers anything that is not a live token
  // with active: false, however long.
  @ApiProperty({ example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIuLi4ifQ.c2ln' })
  @IsString()
  token!: string;

  @ApiPropertyOptional({
    example: 'access_token',
    description: 'RFC 7662 2.1; accepted and not needed: only access tokens can be active',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  token_type_hint?: string;
}

export class IntrospectionDto {
  @ApiProperty({ example: true })
  active!: boolean;

  @ApiPropertyOptional({ example: '0b6f3c1e-7a52-4c0e-9d3e-1f2a3b4c5d6e' })
  sub?: string;

  @ApiPropertyOptional({ example: 1795397162 })
  exp?: number;

  @ApiPropertyOptional({ example: 1795396262 })
  iat?: number;

  @ApiPropertyOptional({ example: 'https://auth.example.com' })
  iss?: string;

  @ApiPropertyOptional({ example: 'kakao-auth' })
  aud?: string;

  @ApiPropertyOptional({ example: '7d0c1c64-6a49-4b7e-a1f0-0d7c9b0b4c11' })
  jti?: string;

  @ApiPropertyOptional({ example: 'Bearer' })
  token_type?: string;

  @ApiPropertyOptional({ example: 'active', enum: ['active', 'deactivated', 'withdrawn'] })
  memberStatus?: string;
}
