import { randomBytes } from 'node:crypto';
import { ResolvedConfig, TOKEN_RATE_LIMITS, TokenGrantType } from './config';
import { CONSENT_ITEM_IDS, consentItem } from './personas';
import type { Persona, UserSnapshot } from './types';

export type AgreedBy = 'KAUTH' | 'KAPI';

export interface TermAgreement {
  agreedAt: Date;
  /** `KAUTH`: the consent screen; `KAPI`: the upgrade API (KAKAO_API.md 6). */
  agreedBy: AgreedBy;
}

export interface UserState {
  /** Live object: tests may change fields (e.g. the nickname) and the next answers follow. */
  persona: Persona;
  linked: boolean;
  /**
   * REGISTERED: linked while auto-link was ON, or the app called `/v1/user/signup`. False while linked means
   * PREREGISTERED, which only shows while auto-link is OFF (see isPreregistered).
   */
  signedUp: boolean;
  connectedAt?: Date;
  /** Set when the link came with Kakao Sync service terms (`synched_at` of `/v2/user/me`). */
  synchedAt?: Date;
  /** Consent items given to the app. */
  scopes: Set<string>;
  terms: Map<string, TermAgreement>;
}

export interface AuthCode {
  userId: string;
  clientId: string;
  redirectUri: string;
  openid: boolean;
  nonce?: string;
  codeChallenge?: string;
  authTime: number;
  expiresAt: number;
}

export interface AccessTokenEntry {
  userId: string;
  clientId: string;
  /** Tokens descending from one login; `/v1/user/logout` with a Bearer token revokes the family. */
  family: string;
  refreshToken?: string;
  scopes: string[];
  expiresAt: number;
}

export interface RefreshTokenEntry {
  userId: string;
  clientId: string;
  family: string;
  /** Issued together with an id_token: refreshing issues a new one (KAKAO_API.md 2). */
  openid: boolean;
  authTime: number;
  expiresAt: number;
}

/** A consent page waiting for the person's decision. */
export interface PendingConsent {
  params: Record<string, string | undefined>;
  createdAt: number;
  /** The Kakao session the browser came with (none under prompt=login): agreeing as that account is no login. */
  session?: { userId: string; authTime: number };
}

export class UnknownUserError extends Error {
  constructor(readonly userId: string) {
    super(`unknown user ${userId}`);
  }
}

let pool = Buffer.alloc(0);
let poolOffset = 0;

/**
 * Opaque tokens in Kakao's base64url alphabet; 40 bytes give Kakao's ~54 characters (KAKAO_API.md 2). The bytes
 * come from a pool refilled 8 KiB at a time (each byte used once): one CSPRNG call per ~70 tokens, not three
 * per token answer.
 */
export function opaque(bytes = 40): string {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(Math.max(8192, bytes));
    poolOffset = 0;
  }
  const value = pool.toString('base64url', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return value;
}

/** RFC 3339 in UTC without milliseconds, as Kakao writes datetimes (e.g. `2022-04-11T01:45:28Z`). */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Tokens (and codes) live for hours, longer than a benchmark runs, so the sweep alone does not bound memory:
 * beyond this many of a kind the oldest is forgotten (it then answers like a revoked one).
 */
export const MAX_TOKENS = 500_000;

/** Everything the emulator remembers: users and their consents, codes, tokens, pending consent pages. */
export class EmulatorState {
  readonly users = new Map<string, UserState>();
  readonly codes = new Map<string, AuthCode>();
  readonly accessTokens = new Map<string, AccessTokenEntry>();
  readonly refreshTokens = new Map<string, RefreshTokenEntry>();
  readonly pendingConsents = new Map<string, PendingConsent>();
  /** The account an authorize request uses when it names none (see README, skip switches). */
  nextUser?: string;
  /** The app's auto-link setting now; `config.autoLink` is the configured one, which reset restores. */
  autoLink = true;
  /** The per-user token rate limit now (KOE237); `config.tokenRateLimit` is the configured one. */
  get tokenRateLimit(): boolean {
    return this.rateLimited;
  }
  set tokenRateLimit(on: boolean) {
    // Counting starts afresh: grants made while it was off are not held against anyone.
    this.rateLimited = on;
    this.grants.clear();
  }
  private rateLimited = false;
  /** Times of recent grants per `<grant type> <user id>`, kept only while the rate limit is on. */
  private readonly grants = new Map<string, number[]>();
  private readonly families = new Map<string, { userId: string; access: Set<string>; refresh: Set<string> }>();
  private readonly userFamilies = new Map<string, Set<string>>();
  private readonly startedAt = new Date();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly personas: Persona[],
  ) {
    this.reset();
  }

  /** Back to the personas the emulator started with; every code, token and consent is forgotten. */
  reset(): void {
    this.users.clear();
    this.codes.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.pendingConsents.clear();
    this.families.clear();
    this.userFamilies.clear();
    this.nextUser = undefined;
    this.autoLink = this.config.autoLink;
    this.tokenRateLimit = this.config.tokenRateLimit;
    for (const p of this.personas) this.addPersona(structuredClone(p));
  }

  /** Adds (or replaces) a user; a `linked` persona starts with its consents and terms. */
  addPersona(persona: Persona): UserState {
    const existing = this.users.get(persona.id);
    if (existing) this.revokeUser(persona.id);
    const user: UserState = { persona, linked: false, signedUp: false, scopes: new Set(), terms: new Map() };
    this.users.set(persona.id, user);
    if (persona.linked) {
      const connectedAt = persona.connectedAt ? new Date(persona.connectedAt) : this.startedAt;
      const scopes = persona.consentedScopes ?? this.personaDefaultScopes(user, this.configuredItems());
      this.link(user, scopes, persona.agreedTerms ?? [], 'KAUTH', connectedAt);
      // Fixtures describe users as they are, independent of the switch at start-up.
      user.signedUp = persona.signedUp ?? true;
    }
    return user;
  }

  /** Consent items configured in the app. */
  configuredItems(): string[] {
    return this.config.consentItems ?? [...CONSENT_ITEM_IDS];
  }

  isRequiredScope(id: string): boolean {
    return this.config.requiredScopes.includes(id);
  }

  term(tag: string) {
    return this.config.serviceTerms.find((t) => t.tag === tag);
  }

  /**
   * What a person ticks by default on the consent screen: every asked item with data behind it, except the
   * optional ones the persona declines. Required items cannot be unticked.
   */
  personaDefaultScopes(user: UserState, asked: string[]): string[] {
    return asked.filter(
      (id) => this.hasData(user, id) && (this.isRequiredScope(id) || !(user.persona.declines ?? []).includes(id)),
    );
  }

  personaDefaultTerms(user: UserState, asked: string[]): string[] {
    return asked.filter((tag) => this.term(tag)?.required || !(user.persona.declines ?? []).includes(tag));
  }

  hasData(user: UserState, scope: string): boolean {
    return consentItem(scope)?.has(user.persona) ?? false;
  }

  link(user: UserState, scopes: string[], terms: string[], by: AgreedBy, at = new Date()): void {
    if (!user.linked) {
      user.linked = true;
      user.connectedAt = at;
      // Auto-link OFF: consenting connects the user, but the app still has to sign them up (KAKAO_API.md 4).
      user.signedUp = this.autoLink;
    }
    for (const s of scopes) if (s !== 'openid' && consentItem(s) && this.hasData(user, s)) user.scopes.add(s);
    for (const tag of terms) {
      if (!this.term(tag) || user.terms.has(tag)) continue;
      user.terms.set(tag, { agreedAt: at, agreedBy: by });
      if (by === 'KAUTH' && !user.synchedAt) user.synchedAt = at;
    }
  }

  /**
   * Linked but not yet signed up by the app. Only an app with auto-link OFF has such users: with it ON, Kakao
   * registers everyone at consent, so a stored `signedUp: false` does not show.
   */
  isPreregistered(user: UserState): boolean {
    return user.linked && !user.signedUp && !this.autoLink;
  }

  /** Unlinking revokes consents, terms and every token (KAKAO_API.md 5, unlink). */
  unlink(user: UserState): void {
    user.linked = false;
    user.signedUp = false;
    user.connectedAt = undefined;
    user.synchedAt = undefined;
    user.scopes.clear();
    user.terms.clear();
    this.revokeUser(user.persona.id);
  }

  /**
   * Counts one token grant against the user's sliding window (KAKAO_API.md 2, Rate limit) and says whether it
   * is allowed; a refused grant is not counted. Always allowed while the rate limit is off.
   */
  allowTokenGrant(userId: string, grant: TokenGrantType, now = Date.now()): boolean {
    if (!this.rateLimited) return true;
    const { max, windowMs } = TOKEN_RATE_LIMITS[grant];
    const key = `${grant} ${userId}`;
    const recent = (this.grants.get(key) ?? []).filter((t) => t > now - windowMs);
    const allowed = recent.length < max;
    if (allowed) recent.push(now);
    this.grants.set(key, recent);
    return allowed;
  }

  newFamily(userId: string): string {
    const family = opaque(9);
    this.families.set(family, { userId, access: new Set(), refresh: new Set() });
    let set = this.userFamilies.get(userId);
    if (!set) this.userFamilies.set(userId, (set = new Set()));
    set.add(family);
    return family;
  }

  addAccessToken(token: string, entry: AccessTokenEntry): void {
    this.accessTokens.set(token, entry);
    this.families.get(entry.family)?.access.add(token);
    if (this.accessTokens.size > MAX_TOKENS) {
      const [oldest, old] = this.accessTokens.entries().next().value!;
      this.accessTokens.delete(oldest);
      this.families.get(old.family)?.access.delete(oldest);
    }
  }

  addRefreshToken(token: string, entry: RefreshTokenEntry): void {
    this.refreshTokens.set(token, entry);
    this.families.get(entry.family)?.refresh.add(token);
    if (this.refreshTokens.size > MAX_TOKENS) this.deleteRefreshToken(this.refreshTokens.keys().next().value!);
  }

  addCode(code: string, entry: AuthCode): void {
    this.codes.set(code, entry);
    if (this.codes.size > MAX_TOKENS) this.codes.delete(this.codes.keys().next().value!);
  }

  deleteRefreshToken(token: string): void {
    const entry = this.refreshTokens.get(token);
    if (!entry) return;
    this.refreshTokens.delete(token);
    this.families.get(entry.family)?.refresh.delete(token);
  }

  /** Revokes a login: every access and refresh token descending from it. */
  revokeFamily(family: string): void {
    const f = this.families.get(family);
    if (!f) return;
    for (const t of f.access) this.accessTokens.delete(t);
    for (const t of f.refresh) this.refreshTokens.delete(t);
    this.families.delete(family);
    this.userFamilies.get(f.userId)?.delete(family);
  }

  revokeUser(userId: string): void {
    for (const family of [...(this.userFamilies.get(userId) ?? [])]) this.revokeFamily(family);
    this.userFamilies.delete(userId);
  }

  /** Forgets expired codes, tokens and consent pages (the maps would otherwise grow during benchmarks). */
  sweep(now = Date.now()): void {
    for (const [code, c] of this.codes) if (c.expiresAt <= now) this.codes.delete(code);
    for (const [token, t] of this.accessTokens) {
      if (t.expiresAt > now) continue;
      this.accessTokens.delete(token);
      this.families.get(t.family)?.access.delete(token);
    }
    for (const [token, t] of this.refreshTokens) if (t.expiresAt <= now) this.deleteRefreshToken(token);
    for (const [family, f] of this.families) {
      if (f.access.size || f.refresh.size) continue;
      this.families.delete(family);
      this.userFamilies.get(f.userId)?.delete(family);
    }
    for (const [id, p] of this.pendingConsents) if (now - p.createdAt > 3600_000) this.pendingConsents.delete(id);
  }

  snapshot(user: UserState): UserSnapshot {
    const p = user.persona;
    return {
      id: p.id,
      key: p.key,
      description: p.description,
      nickname: p.nickname,
      email: p.email,
      dormant: Boolean(p.dormant),
      linked: user.linked,
      signedUp: user.signedUp,
      connectedAt: user.connectedAt && rfc3339(user.connectedAt),
      synchedAt: user.synchedAt && rfc3339(user.synchedAt),
      scopes: [...user.scopes],
      terms: [...user.terms].map(([tag, t]) => ({ tag, agreedAt: rfc3339(t.agreedAt), agreedBy: t.agreedBy })),
    };
  }
}
