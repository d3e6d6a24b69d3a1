import { decideKakaoLogin, maskEmail, maskName, MatchInput } from './kakao-match';

const kakao = { email: 'hong@example.com', emailTrusted: true, name: '홍길동' };
const member = {
  memberId: 'm1',
  email: 'hong@example.com',
  emailVerified: true,
  name: '홍길동',
  hasKakao: false,
  status: 'active' as const,
};
const namesake = {
  memberId: 'm2',
  email: 'other@example.com',
  name: '홍길동',
  hasKakao: false,
  status: 'active' as const,
};
const base: MatchInput = { missingRequiredItems: [], kakao };

describe('decideKakaoLogin (one test per row of the decision table)', () => {
  it('1: a linked active member logs in, whatever else matches', () => {
    expect(decideKakaoLogin({ ...base, linked: { memberId: 'm9', status: 'active' }, sameEmail: member })).toEqual({
      kind: 'LOGGED_IN',
      memberId: 'm9',
    });
  });

  it('2: a linked deactivated member is told so, even with items missing', () => {
    expect(
      decideKakaoLogin({
        ...base,
        linked: { memberId: 'm9', status: 'deactivated' },
        missingRequiredItems: ['account_email'],
      }),
    ).toEqual({
      kind: 'DEACTIVATED_MEMBER',
      memberId: 'm9',
    });
  });

  it('-: a withdrawn member is never resurrected: the login falls through to sign-up', () => {
    expect(decideKakaoLogin({ ...base, linked: { memberId: 'm9', status: 'withdrawn' } })).toEqual({
      kind: 'SIGNED_UP',
    });
  });

  it('3: a missing required item stops before any matching', () => {
    expect(decideKakaoLogin({ ...base, missingRequiredItems: ['account_email'], sameEmail: member })).toEqual({
      kind: 'MANDATORY_ITEMS_NOT_AGREED',
      missingItems: ['account_email'],
    });
  });

  it('4: trusted email equal to a verified member email, same name (spacing ignored) → LINK_REQUIRED', () => {
    expect(decideKakaoLogin({ ...base, kakao: { ...kakao, name: '홍 길동' }, sameEmail: member })).toEqual({
      kind: 'LINK_REQUIRED',
      memberId: 'm1',
    });
  });

  it("4: without Kakao's name (no `name` scope), the nickname stands in for it → LINK_REQUIRED", () => {
    expect(
      decideKakaoLogin({ ...base, kakao: { ...kakao, name: null, nickname: '홍길동' }, sameEmail: member }),
    ).toEqual({ kind: 'LINK_REQUIRED', memberId: 'm1' });
    // Kakao's name, when there is one, is what counts.
    expect(
      decideKakaoLogin({ ...base, kakao: { ...kakao, name: '김철수', nickname: '홍길동' }, sameEmail: member }),
    ).toEqual({ kind: 'VERIFICATION_REQUIRED', memberId: 'm1' });
  });

  it("6: the nickname never makes a name-only match (Kakao's name is unknown: a sign-up)", () => {
    expect(decideKakaoLogin({ ...base, kakao: { ...kakao, name: null, nickname: '홍길동' } })).toEqual({
      kind: 'SIGNED_UP',
    });
  });

  it.each([
    ['the names differ', { ...base, kakao: { ...kakao, name: '김철수' }, sameEmail: member }],
    ['Kakao has neither name nor nickname', { ...base, kakao: { ...kakao, name: null }, sameEmail: member }],
    ['the nickname differs', { ...base, kakao: { ...kakao, name: null, nickname: '길동이' }, sameEmail: member }],
    ["Kakao's email is not trusted", { ...base, kakao: { ...kakao, emailTrusted: false }, sameEmail: member }],
    ["the member's email is not verified", { ...base, sameEmail: { ...member, emailVerified: false } }],
  ])('5: same email but %s → VERIFICATION_REQUIRED', (_, input) => {
    expect(decideKakaoLogin(input)).toEqual({ kind: 'VERIFICATION_REQUIRED', memberId: 'm1' });
  });

  it('6: only the name matches (one member) → VERIFICATION_REQUIRED', () => {
    expect(
      decideKakaoLogin({
        ...base,
        sameNameOnly: namesake,
      }),
    ).toEqual({
      kind: 'VERIFICATION_REQUIRED',
      memberId: 'm2',
    });
  });

  it('7: a candidate that already has a Kakao account is never offered', () => {
    expect(decideKakaoLogin({ ...base, sameEmail: { ...member, hasKakao: true } })).toEqual({ kind: 'SIGNED_UP' });
    expect(decideKakaoLogin({ ...base, sameNameOnly: { ...namesake, email: null, hasKakao: true } })).toEqual({
      kind: 'SIGNED_UP',
    });
  });

  it.each([
    ['full match', { ...base, sameEmail: { ...member, status: 'deactivated' as const } }],
    [
      'same owned email, other name',
      { ...base, sameEmail: { ...member, name: '김철수', status: 'deactivated' as const } },
    ],
  ])("8: the deactivated owner of Kakao's email (%s) → DEACTIVATED_MEMBER, never a second account", (_, input) => {
    expect(decideKakaoLogin(input)).toEqual({ kind: 'DEACTIVATED_MEMBER', memberId: 'm1' });
  });

  it.each([
    [
      'an untrusted Kakao email',
      { ...base, kakao: { ...kakao, emailTrusted: false }, sameEmail: { ...member, status: 'deactivated' as const } },
      'm1',
    ],
    [
      "the member's unverified email",
      { ...base, sameEmail: { ...member, emailVerified: false, status: 'deactivated' as const } },
      'm1',
    ],
    ['the name alone', { ...base, sameNameOnly: { ...namesake, status: 'deactivated' as const } }, 'm2'],
  ])('8 not: a deactivated member matched by %s must be proved first (no mail to a stranger)', (_, input, memberId) => {
    expect(decideKakaoLogin(input)).toEqual({ kind: 'VERIFICATION_REQUIRED', memberId });
  });

  it('7 before 8: a deactivated candidate with another Kakao account is not this person', () => {
    expect(
      decideKakaoLogin({ ...base, sameEmail: { ...member, status: 'deactivated' as const, hasKakao: true } }),
    ).toEqual({ kind: 'SIGNED_UP' });
  });

  it('9: nothing matches → SIGNED_UP', () => {
    expect(decideKakaoLogin(base)).toEqual({ kind: 'SIGNED_UP' });
  });
});

describe('masking', () => {
  it.each([
    ['hong@example.com', 'ho***@ex***.com'],
    ['a@b.co', 'a***@b***.co'],
    ['ab@example.co.kr', 'a***@ex***.kr'],
    [null, null],
    ['not-an-email', null],
  ])('maskEmail(%p) = %p', (input, expected) => expect(maskEmail(input)).toBe(expected));

  it.each([
    ['홍길동', '홍*동'],
    ['김철', '김*'],
    ['남궁민수', '남**수'],
    ['X', '*'],
    [null, null],
  ])('maskName(%p) = %p', (input, expected) => expect(maskName(input)).toBe(expected));
});
