import { Module } from '@nestjs/common';
import { KakaoModule } from '../kakao/kakao.module';
import { MailModule } from '../mail/mail.module';
import { TermsModule } from '../terms/terms.module';
import { TokensModule } from '../tokens/tokens.module';
import { EmailAuthController } from './email-auth.controller';
import { MembersController } from './members.controller';
import { MembersRepository } from './members.repository';
import { MembersService } from './members.service';
import { PasswordHasher } from './password-hasher';

/** The member base: email members, their Kakao identities, deactivation and withdrawal. */
@Module({
  imports: [TokensModule, MailModule, KakaoModule, TermsModule],
  controllers: [EmailAuthController, MembersController],
  providers: [MembersRepository, MembersService, PasswordHasher],
  exports: [MembersRepository, MembersService],
})
export class MembersModule {}
