import { Injectable, Logger } from '@nestjs/common';
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
 *
 * A PREREGISTERED user (an app with auto-link OFF, `has_signed_up: false`) is signed up at Kakao first and
 * read again. Kakao withholds everything but the profile and the email until then, so a login deciding on
 * that would ask for a name the person already gave (MANDATORY_ITEMS_NOT_AGREED on every try) or match on
 * half the data; and Kakao unlinks a user left PREREGISTERED after 24 h. A person who finished Kakao's
 * consent for this service is linked as with auto-link ON, whatever the login then decides.
 */
@Injectable()
export class KakaoAccountReader {
  private readonly logger = new Logger(KakaoAccountReader.name);

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
    if (user.has_signed_up !== false) return { profile: toKakaoProfile(user), kakaoTerms };
    await this.kakao.signupUser(accessToken, options);
    const registered = await this.kakao.getUser(accessToken, options);
    this.logger.log('PREREGISTERED Kakao user signed up at Kakao (auto-link OFF)');
    return { profile: toKakaoProfile(registered), kakaoTerms };
  }
}
