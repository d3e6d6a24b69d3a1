import { AppException } from '../common/errors';
import { KakaoApiError } from '../kakao/kakao.client';
import { kakaoForgotUser } from './terms.service';

describe('kakaoForgotUser: Kakao no longer knows the user (KAKAO_API.md 8)', () => {
  it.each([
    ['a raw kapi -101 (not linked)', new KakaoApiError(400, -101, '/v2/user/service_terms')],
    ['a raw kapi -103 (dormant)', new KakaoApiError(400, -103, '/v2/user/revoke/service_terms')],
    ['-101 mapped for the person', new AppException('KAKAO_ACCESS_DENIED', 'not linked', { kakaoCode: -101 })],
    ['-103 mapped for the person', new AppException('KAKAO_ACCESS_DENIED', 'dormant', { kakaoCode: -103 })],
  ])('%s: yes', (_case, error) => {
    expect(kakaoForgotUser(error)).toBe(true);
  });

  it.each([
    ['Kakao failing (-1)', new KakaoApiError(400, -1, '/v2/user/service_terms')],
    ['the app without permission (-5)', new KakaoApiError(403, -5, '/v2/user/service_terms')],
    ['a 5xx without a code', new AppException('KAKAO_UNAVAILABLE', 'down', undefined, 503)],
    ['a restricted account (-4)', new AppException('KAKAO_ACCESS_DENIED', 'restricted', { kakaoCode: -4 })],
    ['not our exception', Object.assign(new Error('x'), { kakaoCode: -101 })],
    ['nothing', undefined],
  ])('%s: no', (_case, error) => {
    expect(kakaoForgotUser(error)).toBe(false);
  });
});
