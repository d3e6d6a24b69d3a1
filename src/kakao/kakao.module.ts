import { Module } from '@nestjs/common';
import { TokenCipher } from '../common/crypto/token-cipher';
import { KakaoIdTokenVerifier } from './kakao-id-token.verifier';
import { KakaoTokenStore } from './kakao-token.store';
import { KakaoClient } from './kakao.client';
import { KakaoUnlinks } from './kakao-unlinks';

/** Everything that talks to Kakao: the client, the id_token verifier, and Kakao's tokens kept at rest. */
@Module({
  providers: [KakaoClient, KakaoIdTokenVerifier, KakaoTokenStore, TokenCipher, KakaoUnlinks],
  exports: [KakaoClient, KakaoIdTokenVerifier, KakaoTokenStore, TokenCipher, KakaoUnlinks],
})
export class KakaoModule {}
