import { normalizeEmail, normalizeName } from '../common/normalize';
import type { MemberStatus } from './member';

/**
 * What is known at a Kakao login, before anything is written: the decision of issue "member matching" is a
 * pure function of this, so every row of the table below has a unit test.
 */
export interface MatchInput {
  /** The member the Kakao id is linked to, if any. */
  linked?: { memberId: string; status: MemberStatus };
  /** KAKAO_REQUIRED_ITEMS the person did not agree to. */
  missingRequiredItems: string[];
  kakao: {
    /** Kakao's email, whether or not trusted. */
    email: string | null;
    /** Valid and verified at Kakao. */
    emailTrusted: boolean;
    name: string | null;
    /**
     * The Kakao profile nickname (null when it is Kakao's placeholder). Kakao's `name` needs the `name` scope,
     * which the default KAKAO_SCOPES does not ask; a Kakao sign-up takes the nickname as the member's name,
     * so without `name` the nickname is what a member made that way would be called.
     */
    nickname?: string | null;
  };
  /** The member (active or deactivated) whose email equals Kakao's (normalised), if any. */
  sameEmail?: {
    memberId: string;
    email: string;
    emailVerified: boolean;
    name: string | null;
    hasKakao: boolean;
    status: CandidateStatus;
  };
  /** The only member (active or deactivated) with Kakao's name (normalised) when exactly one has it. */
  sameNameOnly?: {
    memberId: string;
    email: string | null;
    name: string | null;
    hasKakao: boolean;
    status: CandidateStatus;
  };
}

/** A withdrawn member keeps nothing to match on. */
export type CandidateStatus = Exclude<MemberStatus, 'withdrawn'>;

export type MatchDecision =
  | { kind: 'LOGGED_IN'; memberId: string }
  | { kind: 'DEACTIVATED_MEMBER'; memberId: string }
  | { kind: 'MANDATORY_ITEMS_NOT_AGREED'; missingItems: string[] }
  | { kind: 'LINK_REQUIRED'; memberId: string }
  | { kind: 'VERIFICATION_REQUIRED'; memberId: string }
  | { kind: 'SIGNED_UP' };

/**
 * The decision on every Kakao login, first row that applies wins:
 *
 * | # | situation                                                                   | decision                     |
 * |---|-----------------------------------------------------------------------------|------------------------------|
 * | 1 | Kakao id linked to an active member                                         | LOGGED_IN                    |
 * | 2 | Kakao id linked to a deactivated member                                     | DEACTIVATED_MEMBER           |
 * | - | (a withdrawn member keeps no link: it falls through and signs up anew)      |                              |
 * | 3 | a KAKAO_REQUIRED_ITEMS item is missing                                      | MANDATORY_ITEMS_NOT_AGREED   |
 * | 4 | Kakao email trusted = a member's verified email, names equal                | LINK_REQUIRED                |
 * | 5 | same email, but names differ, or either email is not verified/trusted      | VERIFICATION_REQUIRED        |
 * | 6 | no email match, exactly one member with the same name                       | VERIFICATION_REQUIRED        |
 * | 7 | a candidate that already has another Kakao account linked                   | SIGNED_UP (never offered)    |
 * | 8 | row 4 or 5 with a deactivated candidate, Kakao's trusted email its verified one | DEACTIVATED_MEMBER       |
 * | 9 | nothing matches                                                             | SIGNED_UP                    |
 *
 * Matching never links by itself: rows 4–6 only offer a link the person must confirm or prove. Row 8 keeps
 * a dormant member's person from getting a second account beside it: they are sent to reactivation, by a
 * mail to the address their Kakao account proves they own. A weaker match with a deactivated member (rows
 * 5–6) is VERIFICATION_REQUIRED like any other: a shared name must not make us mail a stranger, and proving
 * the account's password answers DEACTIVATED_MEMBER then.
 */
export function decideKakaoLogin(input: MatchInput): MatchDecision {
  if (input.linked && input.linked.status === 'active') return { kind: 'LOGGED_IN', memberId: input.linked.memberId };
  if (input.linked && input.linked.status === 'deactivated') {
    return { kind: 'DEACTIVATED_MEMBER', memberId: input.linked.memberId };
  }
  if (input.missingRequiredItems.length) {
    return { kind: 'MANDATORY_ITEMS_NOT_AGREED', missingItems: [...input.missingRequiredItems] };
  }
  const byEmail = input.sameEmail && !input.sameEmail.hasKakao ? input.sameEmail : undefined;
  if (byEmail) {
    const sameOwner = input.kakao.emailTrusted && byEmail.emailVerified;
    if (sameOwner && byEmail.status === 'deactivated') {
      return { kind: 'DEACTIVATED_MEMBER', memberId: byEmail.memberId };
    }
    // The nickname stands in only here, where a verified email already matched: a name-only match (row 6)
    // on a self-chosen nickname would stop strangers' sign-ups.
    const kakaoName = input.kakao.name ?? input.kakao.nickname ?? null;
    const namesMatch =
      byEmail.name !== null && kakaoName !== null && normalizeName(byEmail.name) === normalizeName(kakaoName);
    if (sameOwner && namesMatch) return { kind: 'LINK_REQUIRED', memberId: byEmail.memberId };
    return { kind: 'VERIFICATION_REQUIRED', memberId: byEmail.memberId };
  }
  const byName = input.sameNameOnly && !input.sameNameOnly.hasKakao ? input.sameNameOnly : undefined;
  if (byName) return { kind: 'VERIFICATION_REQUIRED', memberId: byName.memberId };
  return { kind: 'SIGNED_UP' };
}

/** `hong@example.com` → `ho***@ex***.com`: enough for a person to recognise, too little to harvest. */
export function maskEmail(email: string | null): string | null {
  if (!email) return null;
  const at = email.lastIndexOf('@');
  if (at <= 0) return null;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const host = dot > 0 ? domain.slice(0, dot) : domain;
  const tld = dot > 0 ? domain.slice(dot) : '';
  const keep = (s: string) => `${[...s].slice(0, Math.min(2, Math.max(1, [...s].length - 1))).join('')}***`;
  return `${keep(local)}@${keep(host)}${tld}`;
}

/** `홍길동` → `홍*동`, `김철` → `김*`, `John Smith` → `J********h`: first and last characters only. */
export function maskName(name: string | null): string | null {
  if (!name) return null;
  const chars = [...name.trim()];
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

/** Whether two emails are the same for matching (case and Unicode compatibility forms ignored). */
export const sameEmail = (a: string, b: string) => normalizeEmail(a) === normalizeEmail(b);
