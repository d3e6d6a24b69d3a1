import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A Kakao test user. Fields follow `kakao_account` (KAKAO_API.md 4); absent fields are data the account lacks. */
export interface Persona {
  /** Kakao user id: a string here, written to the wire as a JSON number (it exceeds 2^53). */
  id: string;
  key?: string;
  description?: string;
  nickname?: string;
  profileImageUrl?: string;
  thumbnailImageUrl?: string;
  name?: string;
  email?: string;
  isEmailValid?: boolean;
  isEmailVerified?: boolean;
  phoneNumber?: string;
  birthyear?: string;
  birthday?: string;
  birthdayType?: 'SOLAR' | 'LUNAR';
  isLeapMonth?: boolean;
  gender?: 'female' | 'male';
  ageRange?: string;
  /** Consent items this person refuses on the consent screen. */
  declines?: string[];
  /** Already linked to the app before the emulator started (with every scope they do not decline). */
  linked?: boolean;
  /** Service terms already agreed (KAUTH) when `linked`. */
  agreedTerms?: string[];
  /** A dormant account: kapi answers -103. */
  dormant?: boolean;
}

export interface ServiceTermConfig {
  tag: string;
  required: boolean;
  revocable?: boolean;
  title?: string;
}

/** Consent items the emulator knows (KAKAO_API.md 4 and 6), with whether the item has data for a persona. */
export const SCOPES: Array<{ id: string; title: string; has: (p: Persona) => boolean }> = [
  { id: 'profile_nickname', title: '닉네임 Nickname', has: (p) => p.nickname !== undefined },
  { id: 'profile_image', title: '프로필 사진 Profile image', has: () => true },
  { id: 'account_email', title: '카카오계정(이메일) Email', has: (p) => p.email !== undefined },
  { id: 'name', title: '이름 Name', has: (p) => p.name !== undefined },
  { id: 'gender', title: '성별 Gender', has: (p) => p.gender !== undefined },
  { id: 'age_range', title: '연령대 Age range', has: (p) => p.ageRange !== undefined },
  { id: 'birthyear', title: '출생 연도 Birth year', has: (p) => p.birthyear !== undefined },
  { id: 'birthday', title: '생일 Birthday', has: (p) => p.birthday !== undefined },
  { id: 'phone_number', title: '전화번호 Phone number', has: (p) => p.phoneNumber !== undefined },
];

export const DEFAULT_SERVICE_TERMS: ServiceTermConfig[] = [
  { tag: 'service_2024', required: true, revocable: false, title: '서비스 이용약관 Terms of Service' },
  { tag: 'privacy_2024', required: true, revocable: false, title: '개인정보 수집 및 이용 Privacy' },
  { tag: 'marketing', required: false, revocable: true, title: '마케팅 수신 (선택) Marketing' },
  { tag: 'location', required: false, revocable: true, title: '위치 기반 서비스 (선택) Location' },
];

export interface UserState {
  persona: Persona;
  linked: boolean;
  connectedAt?: Date;
  scopes: Set<string>;
  terms: Map<string, { agreedAt: Date; agreedBy: 'KAUTH' | 'KAPI' }>;
}

export interface AccessToken {
  userId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  refreshToken?: string;
}

export interface RefreshToken {
  userId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  openid: boolean;
  authTime: number;
}

export interface AuthCode {
  userId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  expiresAt: number;
  authTime: number;
}

/** Opaque tokens in Kakao's alphabet and rough length (KAKAO_API.md 2). */
export const opaque = (bytes = 40) => randomBytes(bytes).toString('base64url');

export const ACCESS_TOKEN_TTL = 21599;
export const REFRESH_TOKEN_TTL = 5183999;
export const CODE_TTL_MS = 10 * 60_000;

export function loadPersonas(file = path.join(__dirname, 'personas.json')): Persona[] {
  return JSON.parse(readFileSync(file, 'utf8')) as Persona[];
}

/** Everything the emulator remembers: users and their consents, codes, tokens. */
export class EmulatorState {
  users = new Map<string, UserState>();
  codes = new Map<string, AuthCode>();
  accessTokens = new Map<string, AccessToken>();
  refreshTokens = new Map<string, RefreshToken>();
  nextUser?: string;

  constructor(
    private readonly personas: Persona[],
    readonly serviceTerms: ServiceTermConfig[],
  ) {
    this.reset();
  }

  reset(): void {
    this.users.clear();
    this.codes.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.nextUser = undefined;
    for (const p of this.personas) this.add(p);
  }

  add(persona: Persona): UserState {
    const user: UserState = { persona, linked: false, scopes: new Set(), terms: new Map() };
    if (persona.linked)
      this.link(
        user,
        this.allowedScopes(
          user,
          SCOPES.map((s) => s.id),
        ),
        persona.agreedTerms ?? [],
        'KAUTH',
      );
    this.users.set(persona.id, user);
    return user;
  }

  /** The scopes of `requested` this person agrees to: not declined, and with data behind them. */
  allowedScopes(user: UserState, requested: string[]): string[] {
    return requested.filter(
      (s) =>
        s === 'openid' ||
        (!user.persona.declines?.includes(s) && (SCOPES.find((x) => x.id === s)?.has(user.persona) ?? false)),
    );
  }

  link(user: UserState, scopes: string[], terms: string[], by: 'KAUTH' | 'KAPI'): void {
    if (!user.linked) {
      user.linked = true;
      user.connectedAt = new Date();
    }
    for (const s of scopes) user.scopes.add(s);
    for (const t of terms) if (!user.terms.has(t)) user.terms.set(t, { agreedAt: new Date(), agreedBy: by });
  }

  unlink(user: UserState): void {
    user.linked = false;
    user.connectedAt = undefined;
    user.scopes.clear();
    user.terms.clear();
    this.revokeTokens(user.persona.id);
  }

  revokeTokens(userId: string, only?: string): void {
    for (const [token, t] of this.accessTokens) {
      if (t.userId !== userId || (only && token !== only)) continue;
      this.accessTokens.delete(token);
      if (t.refreshToken) this.refreshTokens.delete(t.refreshToken);
    }
    if (!only) for (const [token, t] of this.refreshTokens) if (t.userId === userId) this.refreshTokens.delete(token);
  }
}
