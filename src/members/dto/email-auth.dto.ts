import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SINGLE_ADDRESS } from '../../mail/mail-address';
import { TAG_PATTERN } from '../../terms/terms-catalog';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsEmail, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
/** Full-width and compatibility characters become their plain forms before validation (NFKC). */
const nfkcTrim = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.normalize('NFKC').trim() : value;

export class SignupRequestDto {
  @ApiProperty({ example: 'hong@example.com' })
  @Transform(nfkcTrim)
  @IsEmail({ allow_utf8_local_part: false }, { message: 'email must be an email address' })
  // RFC 5322 allows quoted local parts and `'`; the verification mail is sent only to a plain single address,
  // so an address the mailer would refuse is refused here (it was a 500 once the member row was written).
  @Matches(SINGLE_ADDRESS, { message: 'email must be a plain address (no quotes, spaces or lists)' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple', minLength: 8, maxLength: 128 })
  @IsString()
  @MinLength(8)
  @MaxLength(128)
  // Spaces are allowed (passphrases; ASVS 2.1), but eight of them are no password.
  @Matches(/\S/, { message: 'password must not be only spaces' })
  password!: string;

  @ApiProperty({ example: '홍길동' })
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  // No control characters in a name that ends up in mails and logs of other services.
  @Matches(/^[^\p{Cc}\p{Cf}]+$/u, { message: 'name must not contain control characters' })
  name!: string;

  @ApiPropertyOptional({
    example: ['service_2024', 'privacy_2024', 'marketing'],
    isArray: true,
    type: String,
    description:
      'Terms agreed on the sign-up page (GET /terms); must include every required one. Omit only when the integrator records consent itself.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(TAG_PATTERN, { each: true, message: 'each tag must be a term tag' })
  agreedTags?: string[];
}

export class LoginRequestDto {
  @ApiProperty({ example: 'hong@example.com' })
  @IsString()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @MaxLength(128)
  password!: string;
}

export class EmailTokenRequestDto {
  @ApiProperty({ example: 'Xq1v0sZ8m4kP2dR7tB9wL3yH6cN5fJ0aE1uG8iK2oM4' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  token!: string;
}
