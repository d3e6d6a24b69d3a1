import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { KakaoModule } from '../kakao/kakao.module';
import { MembersModule } from '../members/members.module';
import { TermsModule } from '../terms/terms.module';
import { TokensModule } from '../tokens/tokens.module';
import { KakaoAuthController, MemberKakaoController } from './kakao-auth.controller';
import { KakaoLoginService } from './kakao-login.service';
import { KakaoLogoutListener } from './kakao-logout.listener';
import { KakaoPassport } from './kakao-passport';
import { KakaoStrategy } from './kakao.strategy';
import { KakaoAccountReader } from './kakao-account.reader';
import { LoginTransactionsRepository } from './login-transactions.repository';

/** The Kakao login flows: redirect (passport), hybrid code, native SDK tokens, tickets. */
@Module({
  imports: [PassportModule, KakaoModule, MembersModule, TermsModule, TokensModule],
  controllers: [KakaoAuthController, MemberKakaoController],
  providers: [
    KakaoAccountReader,
    KakaoStrategy,
    KakaoPassport,
    KakaoLoginService,
    LoginTransactionsRepository,
    KakaoLogoutListener,
  ],
})
export class KakaoAuthModule {}
