import { Injectable } from '@nestjs/common';
import { KakaoProfile, toKakaoProfile } from '../kakao/kakao-profile';
import { KakaoClient } from '../kakao/kakao.client';
import { KakaoTermsRead, TermsService } from '../terms/terms.service';

/** What every Kakao login learns with its access token: who the person is and which service terms they hold. */
export interface KakaoAccount {
  profile: KakaoProfile;
  kakaoTerms: KakaoTermsRead;
}

/**
 * Reads the user and the Kakao Sync terms behind an access token at the same time: the two calls are
 * independent, so a login waits for one Kakao round trip instead of two. A failed terms read does not fail
 * the login (readKakao never throws); a failed user read does.
 */
@Injectable()
export class KakaoAccountReader {
  constructor(
    private readonly kakao: KakaoClient,
    private readonly terms: TermsService,
  ) {}

  /** `tokenFromCaller`: the caller handed us the access token (native login), so its refusal is theirs. */
  async read(accessToken: string, options: { tokenFromCaller?: boolean } = {}): Promise<KakaoAccount> {
    const [user, kakaoTerms] = await Promise.all([
      this.kakao.getUser(accessToken, options),
      this.terms.readKakao({ accessToken }),
    ]);
    return { profile: toKakaoProfile(user), kakaoTerms };
  }
}
