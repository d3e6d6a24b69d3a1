import { AppException } from '../common/errors';
import { KakaoApiError } from '../kakao/kakao.client';
import { kakaoUnlinkedUser } from './terms.service';

describe('kakaoUnlinkedUser: the user is no longer linked to the app at Kakao (KAKAO_API.md 8)', () => {
  it.each([
    ['a raw kapi -101 (not linked)', new KakaoApiError(400, -101, '/v2/user/service_terms')],
    ['-101 mapped for the person', new AppException('KAKAO_ACCESS_DENIED', 'not linked', { kakaoCode: -101 })],
  ])('%s: yes', (_case, error) => {
    expect(kakaoUnlinkedUser(error)).toBe(true);
  });

  it.each([
    // A dormant account keeps its agreements at Kakao.
    ['a raw kapi -103 (dormant)', new KakaoApiError(400, -103, '/v2/user/revoke/service_terms')],
    ['-103 mapped for the person', new AppException('KAKAO_ACCESS_DENIED', 'dormant', { kakaoCode: -103 })],
    ['Kakao failing (-1)', new KakaoApiError(400, -1, '/v2/user/service_terms')],
    ['the app without permission (-5)', new KakaoApiError(403, -5, '/v2/user/service_terms')],
    ['a 5xx without a code', new AppException('KAKAO_UNAVAILABLE', 'down', undefined, 503)],
    ['a restricted account (-4)', new AppException('KAKAO_ACCESS_DENIED', 'restricted', { kakaoCode: -4 })],
    ['not our exception', Object.assign(new Error('x'), { kakaoCode: -101 })],
    ['nothing', undefined],
  ])('%s: no', (_case, error) => {
    expect(kakaoUnlinkedUser(error)).toBe(false);
  });
});
