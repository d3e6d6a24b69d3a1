import { readFileSync } from 'node:fs';
import type { Persona } from './types';
// Imported (not read from disk) so that tsc copies the fixture next to the compiled emulator.
import defaultPersonasJson from './personas.json';

/** A consent item (동의항목) the emulator knows, with what `/v2/user/scopes` reports about it (KAKAO_API.md 6). */
export interface ConsentItem {
  id: string;
  /** `display_name` of `/v2/user/scopes`. */
  displayName: string;
  /** Label on the consent page. */
  title: string;
  type: 'PRIVACY' | 'SERVICE';
  /** Whether the account has data behind the item (no data: `*_needs_agreement` false and no value). */
  has: (p: Persona) => boolean;
}

export const CONSENT_ITEMS: readonly ConsentItem[] = [
  {
    id: 'profile_nickname',
    displayName: 'Nickname',
    title: '닉네임 · Nickname',
    type: 'PRIVACY',
    has: (p) => p.nickname !== undefined,
  },
  {
    id: 'profile_image',
    displayName: 'Profile image',
    title: '프로필 사진 · Profile image',
    type: 'PRIVACY',
    has: () => true,
  },
  {
    id: 'account_email',
    displayName: 'Email',
    title: '카카오계정(이메일) · Email',
    type: 'PRIVACY',
    has: (p) => p.email !== undefined,
  },
  { id: 'name', displayName: 'Name', title: '이름 · Name', type: 'PRIVACY', has: (p) => p.name !== undefined },
  { id: 'gender', displayName: 'Gender', title: '성별 · Gender', type: 'PRIVACY', has: (p) => p.gender !== undefined },
  {
    id: 'age_range',
    displayName: 'Age range',
    title: '연령대 · Age range',
    type: 'PRIVACY',
    has: (p) => p.ageRange !== undefined,
  },
  {
    id: 'birthday',
    displayName: 'Birthday',
    title: '생일 · Birthday',
    type: 'PRIVACY',
    has: (p) => p.birthday !== undefined,
  },
  {
    id: 'birthyear',
    displayName: 'Birth year',
    title: '출생 연도 · Birth year',
    type: 'PRIVACY',
    has: (p) => p.birthyear !== undefined,
  },
  {
    id: 'phone_number',
    displayName: 'Phone number',
    title: '카카오계정(전화번호) · Phone number',
    type: 'PRIVACY',
    has: (p) => p.phoneNumber !== undefined,
  },
  {
    id: 'talk_message',
    displayName: 'Send message in KakaoTalk',
    title: '카카오톡 메시지 전송 · KakaoTalk messages',
    type: 'SERVICE',
    has: () => true,
  },
];

export const CONSENT_ITEM_IDS: readonly string[] = CONSENT_ITEMS.map((i) => i.id);

export const consentItem = (id: string): ConsentItem | undefined => CONSENT_ITEMS.find((i) => i.id === id);

const MAX_INT64 = 2n ** 63n - 1n;

/**
 * Checks a persona. Ids must be decimal strings: a JSON number above 2^53 would already have lost digits
 * in JSON.parse, which is exactly the bug the fixtures are meant to catch (KAKAO_API.md, "Critical for NestJS").
 */
export function validatePersona(p: unknown): Persona {
  if (typeof p !== 'object' || p === null) throw new Error('persona must be an object');
  const persona = p as Persona;
  if (typeof persona.id !== 'string' || !/^[1-9]\d{0,18}$/.test(persona.id) || BigInt(persona.id) > MAX_INT64) {
    throw new Error(
      `persona id must be a decimal string of a positive 64-bit integer (got ${JSON.stringify(persona.id)}); ` +
        'JSON numbers above 2^53 lose digits, so ids are strings in the fixtures',
    );
  }
  const strings = [
    'key',
    'description',
    'nickname',
    'profileImageUrl',
    'thumbnailImageUrl',
    'name',
    'email',
    'phoneNumber',
  ];
  for (const field of strings) {
    const value = (persona as unknown as Record<string, unknown>)[field];
    if (value !== undefined && typeof value !== 'string')
      throw new Error(`persona ${persona.id}: ${field} must be a string`);
  }
  if (persona.birthyear !== undefined && !/^\d{4}$/.test(persona.birthyear)) {
    throw new Error(`persona ${persona.id}: birthyear must be YYYY`);
  }
  if (persona.birthday !== undefined && !/^(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/.test(persona.birthday)) {
    throw new Error(`persona ${persona.id}: birthday must be MMDD`);
  }
  if (persona.birthdayType !== undefined && persona.birthdayType !== 'SOLAR' && persona.birthdayType !== 'LUNAR') {
    throw new Error(`persona ${persona.id}: birthdayType must be SOLAR or LUNAR`);
  }
  if (persona.gender !== undefined && persona.gender !== 'female' && persona.gender !== 'male') {
    throw new Error(`persona ${persona.id}: gender must be female or male`);
  }
  if (persona.signedUp !== undefined && typeof persona.signedUp !== 'boolean') {
    throw new Error(`persona ${persona.id}: signedUp must be true or false`);
  }
  return persona;
}

/** Personas of a JSON file, or of the bundled `personas.json` when no file is given. */
/** Ids of the personas in personas.json, by role, for tests. */
export const PERSONA_IDS = {
  full: '4000000000000001001',
  noEmailConsent: '4000000000000001002',
  emailUnverified: '4000000000000001003',
  emailInvalid: '4000000000000001004',
  noName: '4000000000000001005',
  lunarLeap: '4000000000000001006',
  termsAgreed: '4000000000000001007',
  termsMissing: '4000000000000001008',
  dormant: '4000000000000001009',
  defaultProfile: '4000000000000001010',
  requiredTermsOnly: '4000000000000001011',
} as const;

export function loadPersonas(file?: string): Persona[] {
  const parsed: unknown = file ? JSON.parse(readFileSync(file, 'utf8')) : defaultPersonasJson;
  return checkPersonas(parsed, file ?? 'personas.json');
}

export function checkPersonas(parsed: unknown, source: string): Persona[] {
  if (!Array.isArray(parsed)) throw new Error(`${source}: expected a JSON array of personas`);
  const personas = parsed.map((p) => validatePersona(p));
  const seen = new Set<string>();
  for (const p of personas) {
    if (seen.has(p.id)) throw new Error(`${source}: duplicate persona id ${p.id}`);
    seen.add(p.id);
  }
  // Copies, so that tests mutating a persona at runtime never touch the fixture itself.
  return personas.map((p) => structuredClone(p));
}

/** Kakao's default profile pictures, used when a persona has none. */
export const DEFAULT_PROFILE_IMAGE =
  'http://img1.kakaocdn.net/thumb/R640x640.q70/?fname=http://t1.kakaocdn.net/account_images/default_profile.jpeg';
export const DEFAULT_THUMBNAIL_IMAGE =
  'http://img1.kakaocdn.net/thumb/R110x110.q70/?fname=http://t1.kakaocdn.net/account_images/default_profile.jpeg';
