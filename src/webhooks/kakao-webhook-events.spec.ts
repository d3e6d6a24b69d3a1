import { accountEventAction, parseUnlinkCall, storableText, unlinkDedupeKey } from './kakao-webhook-events';

describe('parseUnlinkCall', () => {
  it('reads the parameters as strings, whatever the transport gave', () => {
    expect(
      parseUnlinkCall({ app_id: '1234567', user_id: '4000000000000001001', referrer_type: 'UNLINK_FROM_APPS' }),
    ).toEqual({
      appId: '1234567',
      userId: '4000000000000001001',
      referrerType: 'UNLINK_FROM_APPS',
    });
    // A JSON body with a safe-integer id; an unknown future referrer type is still a call.
    expect(parseUnlinkCall({ app_id: 1234567, user_id: 42, referrer_type: 'SOMETHING_NEW' })).toEqual({
      appId: '1234567',
      userId: '42',
      referrerType: 'SOMETHING_NEW',
    });
  });

  it('names every problem', () => {
    expect(parseUnlinkCall({})).toEqual({
      problems: [
        'app_id must be the numeric app id',
        'user_id must be a numeric Kakao user id',
        'referrer_type must be a referrer type',
      ],
    });
    // An id above 2^53 sent as a JSON number has already lost digits: refused, not rounded.
    expect(parseUnlinkCall({ app_id: '1', user_id: 4000000000000001001, referrer_type: 'X' })).toHaveProperty(
      'problems',
    );
    expect(parseUnlinkCall({ app_id: '1', user_id: ['1', '2'], referrer_type: 'X' })).toHaveProperty('problems');
    expect(parseUnlinkCall({ app_id: '1', user_id: '1', referrer_type: 'a b' })).toHaveProperty('problems');
  });
});

describe('accountEventAction', () => {
  const oauth = 'https://schemas.openid.net/secevent/oauth/event-type/';
  const risc = 'https://schemas.openid.net/secevent/risc/event-type/';
  it.each([
    [`${oauth}user-unlinked`, 'user-unlinked', 'unlink'],
    [`${oauth}tokens-revoked`, 'tokens-revoked', 'revoke'],
    [`${risc}account-disabled`, 'account-disabled', 'revoke'],
    [`${risc}sessions-revoked`, 'sessions-revoked', 'revoke'],
    [`${risc}account-credential-change-required`, 'account-credential-change-required', 'revoke'],
    [`${risc}credential-compromise`, 'credential-compromise', 'revoke'],
    [
      'https://schemas.kakao.com/platevent/kakao/event-type/user-profile-changed',
      'user-profile-changed',
      'refresh_profile',
    ],
    [`${oauth}user-linked`, 'user-linked', 'record'],
    [`${risc}account-enabled`, 'account-enabled', 'record'],
    ['urn:example:something', 'urn:example:something', 'record'],
  ])('%s → %s, %s', (uri, name, action) => {
    expect(accountEventAction(uri)).toEqual({ name, action });
  });
});

describe('unlinkDedupeKey', () => {
  const call = { appId: '1', userId: '2', referrerType: 'UNLINK_FROM_APPS' };
  it('is the same within the window and differs by reason and window', () => {
    const t = new Date('2026-11-23T10:00:30Z');
    expect(unlinkDedupeKey(call, 'h', t)).toBe(unlinkDedupeKey(call, 'h', new Date('2026-11-23T10:09:59Z')));
    expect(unlinkDedupeKey(call, 'h', t)).not.toBe(unlinkDedupeKey(call, 'h', new Date('2026-11-23T10:10:00Z')));
    expect(unlinkDedupeKey(call, 'h', t)).not.toBe(
      unlinkDedupeKey({ ...call, referrerType: 'ACCOUNT_DELETE' }, 'h', t),
    );
  });
});

describe('storableText', () => {
  // Found by the fuzz (test/e2e/fuzz.e2e-spec.ts): a signed SET whose reason was "\u0000" failed its inbox
  // write with a 500, since PostgreSQL text cannot hold U+0000.
  it('drops U+0000 from claims before they are stored, in the event name too', () => {
    expect(storableText('UNLINK\u0000_FROM_APPS\u0000')).toBe('UNLINK_FROM_APPS');
    expect(accountEventAction('https://schemas.openid.net/secevent/oauth/event-type/user-unlinked\u0000')).toEqual({
      name: 'user-unlinked',
      action: 'unlink',
    });
    expect(accountEventAction('\u0000://').name).not.toContain('\u0000');
  });
});
