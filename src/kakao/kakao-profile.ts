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

/** A value Kakao holds for an item: a non-empty string (anything else is as good as absent). */
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * Consent item ids (the `scope` values of KAKAO_API.md) and how to read each from `kakao_account`. An item
 * counts as agreed only when its value is there and of its type: `false` without a value means the account
 * lacks the data (KAKAO_API.md 4), and a null or a number in its place is no more an answer.
 */
const ITEMS: Array<{ id: string; needs: keyof KakaoAccountRaw; has: (a: KakaoAccountRaw) => boolean }> = [
  {
    id: 'profile_nickname',
    needs: 'profile_nickname_needs_agreement',
    has: (a) => str(a.profile?.nickname) !== null,
  },
  {
    id: 'profile_image',
    needs: 'profile_image_needs_agreement',
    has: (a) => str(a.profile?.profile_image_url) !== null,
  },
  { id: 'account_email', needs: 'email_needs_agreement', has: (a) => str(a.email) !== null },
  { id: 'name', needs: 'name_needs_agreement', has: (a) => str(a.name) !== null },
  { id: 'gender', needs: 'gender_needs_agreement', has: (a) => str(a.gender) !== null },
  { id: 'age_range', needs: 'age_range_needs_agreement', has: (a) => str(a.age_range) !== null },
  { id: 'birthyear', needs: 'birthyear_needs_agreement', has: (a) => str(a.birthyear) !== null },
  { id: 'birthday', needs: 'birthday_needs_agreement', has: (a) => str(a.birthday) !== null },
  { id: 'phone_number', needs: 'phone_number_needs_agreement', has: (a) => str(a.phone_number) !== null },
];

/** Korea's country code: Kakao writes its numbers with the national trunk prefix 0 (`+82 010-…`). */
const KOREA = '82';
/** Country codes whose numbers begin with a 0 that is part of them, not a trunk prefix (Italy, San Marino, Vatican). */
const ZERO_IS_PART_OF_THE_NUMBER = new Set(['39', '378', '379']);

/**
 * Kakao's phone format (`+82 010-1234-5678`, `+82 10 1234 5678`) to E.164 (`+821012345678`). A number already
 * in E.164 is kept. A national trunk prefix 0 after the country code is dropped (`+44 020 …` is `+4420…`),
 * except where the 0 is part of the number (Italy: `+39 06 1234 5678` is `+390612345678`). Anything
 * unparseable is kept as null, not guessed.
 */
export function toE164(phone: string | undefined): string | null {
  if (typeof phone !== 'string') return null;
  const trimmed = phone.trim();
  if (/^\+\d+$/.test(trimmed)) {
    // Korea's trunk 0 written without a separator (`+82010…`) is the one correction made.
    const digits = trimmed.startsWith(`+${KOREA}0`) ? `${KOREA}${trimmed.slice(4)}` : trimmed.slice(1);
    return /^[1-9]\d{6,14}$/.test(digits) ? `+${digits}` : null;
  }
  const match = /^\+([1-9]\d{0,2})[\s-]+(.+)$/.exec(trimmed);
  if (!match) return null;
  const national = match[2].replace(/[\s-]/g, '');
  if (!/^\d{4,14}$/.test(national)) return null;
  const digits = `${match[1]}${ZERO_IS_PART_OF_THE_NUMBER.has(match[1]) ? national : national.replace(/^0/, '')}`;
  return digits.length <= 15 ? `+${digits}` : null;
}

/** Kakao's datetimes are RFC 3339 (KAKAO_API.md 4); anything else is taken as absent, never guessed. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function toDate(value: unknown): Date | null {
  if (typeof value !== 'string' || !RFC3339.test(value)) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  // JavaScript rolls an impossible day over (2024-02-30 → March 1st): the calendar date must exist as written.
  const [year, month, day] = value.slice(0, 10).split('-').map(Number);
  const written = new Date(Date.UTC(year, month - 1, day));
  return written.getUTCMonth() === month - 1 && written.getUTCDate() === day ? date : null;
}

export function toKakaoProfile(user: KakaoUserRaw): KakaoProfile {
  const a = user.kakao_account ?? {};
  const email = str(a.email);
  const emailVerified = Boolean(email && a.is_email_valid === true && a.is_email_verified === true);
  const birthdayType = a.birthday_type === 'SOLAR' || a.birthday_type === 'LUNAR' ? a.birthday_type : null;
  const gender = str(a.gender)?.toLowerCase() ?? null;
  const defaultImage = a.profile?.is_default_image === true;
  return {
    kakaoId: user.id,
    connectedAt: toDate(user.connected_at),
    trustedEmail: emailVerified ? email : null,
    email,
    emailVerified,
    name: str(a.name),
    // Kakao's placeholder ("닉네임을 등록해주세요") for a user who set no nickname is not their name.
    nickname: a.profile?.is_default_nickname === true ? null : str(a.profile?.nickname),
    // Nor is its default picture for a user who set none (`is_default_image`).
    profileImageUrl: defaultImage ? null : str(a.profile?.profile_image_url),
    thumbnailImageUrl: defaultImage ? null : str(a.profile?.thumbnail_image_url),
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
