import { toE164, toKakaoProfile } from './kakao-profile';

describe('toE164', () => {
  it.each([
    ['+82 010-1234-5678', '+821012345678'],
    ['+82 10-1234-5678', '+821012345678'],
    ['+82 10 1234 5678', '+821012345678'],
    ['+1 415-555-0100', '+14155550100'],
  ])('%s → %s', (input, expected) => expect(toE164(input)).toBe(expected));

  it.each([undefined, '', '010-1234-5678', '+82', '+82 abc', '+82 0'])('refuses %p', (input) =>
    expect(toE164(input)).toBeNull(),
  );
});

describe('toKakaoProfile', () => {
  const base = { id: '1376016924429759243', connected_at: '2022-04-11T01:45:28Z' };

  it('trusts the email only when it is both valid and verified', () => {
    const account = (is_email_valid: boolean, is_email_verified: boolean) =>
      toKakaoProfile({ ...base, kakao_account: { email: 'a@b.c', is_email_valid, is_email_verified } });
    expect(account(true, true).trustedEmail).toBe('a@b.c');
    expect(account(true, false).trustedEmail).toBeNull();
    expect(account(false, true).trustedEmail).toBeNull();
    expect(account(false, true).email).toBe('a@b.c');
  });

  it('keeps a lunar birthday with its leap month, and reads what needs consent', () => {
    const p = toKakaoProfile({
      ...base,
      kakao_account: {
        birthday: '0415',
        birthday_type: 'LUNAR',
        is_leap_month: true,
        email_needs_agreement: true,
        profile_nickname_needs_agreement: false,
        profile: { nickname: '라이언' },
        phone_number: '+82 010-1234-5678',
        gender: 'MALE',
      },
    });
    expect(p).toMatchObject({
      kakaoId: '1376016924429759243',
      birthday: '0415',
      birthdayType: 'LUNAR',
      isLeapMonth: true,
      phoneNumber: '+821012345678',
      gender: 'male',
      email: null,
      trustedEmail: null,
      itemsNeedingConsent: ['account_email'],
      agreedItems: ['profile_nickname', 'gender', 'birthday', 'phone_number'],
    });
    expect(p.connectedAt?.toISOString()).toBe('2022-04-11T01:45:28.000Z');
  });

  it("drops Kakao's placeholder nickname (is_default_nickname), keeping the consent it stands for", () => {
    const p = (is_default_nickname: boolean) =>
      toKakaoProfile({
        ...base,
        kakao_account: { profile: { nickname: '닉네임을 등록해주세요', is_default_nickname } },
      });
    expect(p(true).nickname).toBeNull();
    expect(p(true).agreedItems).toEqual(['profile_nickname']);
    expect(p(false).nickname).toBe('닉네임을 등록해주세요');
  });
});
