import { redactUrl } from './logging';

describe('redactUrl', () => {
  it('hides OAuth values and the unlink webhook’s Kakao user id, keeping the rest as received', () => {
    expect(redactUrl('/auth/kakao/callback?code=abc&state=xyz&foo=1')).toBe(
      '/auth/kakao/callback?code=[REDACTED]&state=[REDACTED]&foo=1',
    );
    expect(
      redactUrl('/webhooks/kakao/unlink?app_id=1&user_id=4000000000000001001&referrer_type=UNLINK_FROM_APPS'),
    ).toBe('/webhooks/kakao/unlink?app_id=1&user_id=[REDACTED]&referrer_type=UNLINK_FROM_APPS');
    expect(redactUrl('/health/ready')).toBe('/health/ready');
  });
});
