import { toDate, toE164, toKakaoProfile } from './kakao-profile';

describe('toE164', () => {
  it.each([
    ['+82 010-1234-5678', '+821012345678'],
    ['+82 10-1234-5678', '+821012345678'],
    ['+82 10 1234 5678', '+821012345678'],
    ['+1 415-555-0100', '+14155550100'],
    // Already E.164: kept as is.
    ['+821012345678', '+821012345678'],
    ['+14155550100', '+14155550100'],
    ['+390612345678', '+390612345678'],
    // Korea's trunk 0 written without a separator.
    ['+8201012345678', '+821012345678'],
    // Other countries' trunk 0 goes too (the UK writes London as 020) …
    ['+44 020 7946 0958', '+442079460958'],
    // … except where the 0 belongs to the number (Italy's landlines).
    ['+39 06 1234 5678', '+390612345678'],
  ])('%s → %s', (input, expected) => expect(toE164(input)).toBe(expected));

  it.each([undefined, '', '010-1234-5678', '+82', '+82 abc', '+82 0', '+0 123-4567', '+12345', '+1234567890123456'])(
    'refuses %p',
    (input) => expect(toE164(input)).toBeNull(),
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

describe('toKakaoProfile: odd but well-formed answers', () => {
  const id = '1376016924429759243';

  it('takes an unparsable connected_at as absent, not as an invalid date', () => {
    for (const connected_at of ['not a date', '', '2022-13-45T99:99:99Z', '1', 20220411 as unknown as string]) {
      expect(toKakaoProfile({ id, connected_at }).connectedAt).toBeNull();
    }
    expect(toKakaoProfile({ id }).connectedAt).toBeNull();
    expect(toDate('2022-04-11T01:45:28Z')?.toISOString()).toBe('2022-04-11T01:45:28.000Z');
    expect(toDate('2022-04-11T10:45:28.5+09:00')?.toISOString()).toBe('2022-04-11T01:45:28.500Z');
    // A day the calendar does not have is absent, not rolled over into the next month.
    expect(toDate('2024-02-30T00:00:00Z')).toBeNull();
    expect(toDate('2023-02-29T00:00:00Z')).toBeNull();
    expect(toDate('2024-02-29T23:59:59+09:00')?.toISOString()).toBe('2024-02-29T14:59:59.000Z');
  });

  it('counts an item as agreed only when its value is present and a string', () => {
    const agreed = (kakao_account: Record<string, unknown>) => toKakaoProfile({ id, kakao_account }).agreedItems;
    expect(agreed({ email_needs_agreement: false, email: null })).toEqual([]);
    expect(agreed({ email_needs_agreement: false, email: 42 })).toEqual([]);
    expect(agreed({ email_needs_agreement: false, email: '' })).toEqual([]);
    expect(agreed({ email_needs_agreement: false, email: 'a@b.c' })).toEqual(['account_email']);
    const odd = { x: null, y: 7, z: '', w: { a: 1 } };
    for (const v of Object.values(odd)) {
      expect(
        agreed({
          profile: { nickname: v, profile_image_url: v },
          name: v,
          gender: v,
          age_range: v,
          birthyear: v,
          birthday: v,
          phone_number: v,
        }),
      ).toEqual([]);
    }
    expect(
      agreed({
        profile: { nickname: 'n', profile_image_url: 'http://x/y.jpg' },
        name: 'n',
        gender: 'female',
        age_range: '20~29',
        birthyear: '2002',
        birthday: '1130',
        phone_number: '+82 010-1234-5678',
      }),
    ).toEqual([
      'profile_nickname',
      'profile_image',
      'name',
      'gender',
      'age_range',
      'birthyear',
      'birthday',
      'phone_number',
    ]);
  });

  it("drops Kakao's default picture (is_default_image), keeping the consent it stands for", () => {
    const p = (is_default_image: boolean) =>
      toKakaoProfile({
        id,
        kakao_account: {
          profile: {
            profile_image_url: 'http://k/default_640.jpg',
            thumbnail_image_url: 'http://k/default_110.jpg',
            is_default_image,
          },
        },
      });
    expect(p(true)).toMatchObject({ profileImageUrl: null, thumbnailImageUrl: null, agreedItems: ['profile_image'] });
    expect(p(false)).toMatchObject({
      profileImageUrl: 'http://k/default_640.jpg',
      thumbnailImageUrl: 'http://k/default_110.jpg',
    });
  });
});
