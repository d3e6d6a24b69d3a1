import type { KakaoAccountRaw, KakaoUserRaw } from './kakao.types';

/** A Kakao user as the rest of the service sees it: normalised, with what is missing spelled out. */
export interface KakaoProfile {
  kakaoId: string;
  connectedAt: Date | null;
  /** Present only when Kakao says it is both valid and verified: the only email that may be matched on. */
  trustedEmail: string | null;
  /** The email as Kakao has it, trusted or not (shown, never matched on). */
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  nickname: string | null;
  profileImageUrl: string | null;
  thumbnailImageUrl: string | null;
  gender: string | null;
  ageRange: string | null;
  birthyear: string | null;
  birthday: string | null;
  birthdayType: 'SOLAR' | 'LUNAR' | null;
  isLeapMonth: boolean | null;
  /** E.164 */
  phoneNumber: string | null;
  /** Consent items the user has not agreed to but could (`*_needs_agreement: true`). */
  itemsNeedingConsent: string[];
  /** Consent items agreed to (a value is present). */
  agreedItems: string[];
}

/** Consent item ids (the `scope` values of KAKAO_API.md) and how to read each from `kakao_account`. */
const ITEMS: Array<{ id: string; needs: keyof KakaoAccountRaw; has: (a: KakaoAccountRaw) => boolean }> = [
  { id: 'profile_nickname', needs: 'profile_nickname_needs_agreement', has: (a) => a.profile?.nickname !== undefined },
  {
    id: 'profile_image',
    needs: 'profile_image_needs_agreement',
    has: (a) => a.profile?.profile_image_url !== undefined,
  },
  { id: 'account_email', needs: 'email_needs_agreement', has: (a) => a.email !== undefined },
  { id: 'name', needs: 'name_needs_agreement', has: (a) => a.name !== undefined },
  { id: 'gender', needs: 'gender_needs_agreement', has: (a) => a.gender !== undefined },
  { id: 'age_range', needs: 'age_range_needs_agreement', has: (a) => a.age_range !== undefined },
  { id: 'birthyear', needs: 'birthyear_needs_agreement', has: (a) => a.birthyear !== undefined },
  { id: 'birthday', needs: 'birthday_needs_agreement', has: (a) => a.birthday !== undefined },
  { id: 'phone_number', needs: 'phone_number_needs_agreement', has: (a) => a.phone_number !== undefined },
];

/**
 * Kakao's phone format (`+82 010-1234-5678`, `+82 10 1234 5678`) to E.164 (`+821012345678`): the national
 * trunk prefix 0 is dropped after a country code. Anything unparseable is kept as null rather than guessed.
 */
export function toE164(phone: string | undefined): string | null {
  if (!phone) return null;
  const match = /^\+(\d{1,3})[\s-]+(.+)$/.exec(phone.trim());
  if (!match) return null;
  const national = match[2].replace(/[\s-]/g, '');
  if (!/^\d{4,14}$/.test(national)) return null;
  const digits = `${match[1]}${national.replace(/^0/, '')}`;
  return digits.length <= 15 ? `+${digits}` : null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function toKakaoProfile(user: KakaoUserRaw): KakaoProfile {
  const a = user.kakao_account ?? {};
  const email = str(a.email);
  const emailVerified = Boolean(email && a.is_email_valid === true && a.is_email_verified === true);
  const birthdayType = a.birthday_type === 'SOLAR' || a.birthday_type === 'LUNAR' ? a.birthday_type : null;
  const gender = str(a.gender)?.toLowerCase() ?? null;
  return {
    kakaoId: user.id,
    connectedAt: user.connected_at ? new Date(user.connected_at) : null,
    trustedEmail: emailVerified ? email : null,
    email,
    emailVerified,
    name: str(a.name),
    // Kakao's placeholder ("닉네임을 등록해주세요") for a user who set no nickname is not their name.
    nickname: a.profile?.is_default_nickname === true ? null : str(a.profile?.nickname),
    profileImageUrl: str(a.profile?.profile_image_url),
    thumbnailImageUrl: str(a.profile?.thumbnail_image_url),
    gender: gender === 'female' || gender === 'male' ? gender : null,
    ageRange: str(a.age_range),
    birthyear: str(a.birthyear),
    birthday: str(a.birthday),
    birthdayType,
    isLeapMonth: typeof a.is_leap_month === 'boolean' ? a.is_leap_month : null,
    phoneNumber: toE164(a.phone_number),
    itemsNeedingConsent: ITEMS.filter((i) => a[i.needs] === true).map((i) => i.id),
    agreedItems: ITEMS.filter((i) => i.has(a)).map((i) => i.id),
  };
}
