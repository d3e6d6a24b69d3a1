/**
 * What Kakao's webhook calls mean (KAKAO_API.md 7). Pure, so each rule is a unit test.
 */

/** What processing does for a call. */
export type WebhookAction = 'unlink' | 'revoke' | 'refresh_profile' | 'record';

/** `referrer_type`s Kakao documents; any other (future) value is accepted and handled as an unlink too. */
export const KNOWN_REFERRER_TYPES = [
  'ACCOUNT_DELETE',
  'FORCED_ACCOUNT_DELETE',
  'UNLINK_FROM_ADMIN',
  'UNLINK_FROM_APPS',
  'INCOMPLETE_SIGN_UP',
] as const;

export interface UnlinkCall {
  appId: string;
  userId: string;
  referrerType: string;
}

const USER_ID = /^\d{1,20}$/;
const TOKEN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The unlink webhook's parameters (query for GET, form or JSON for POST), or what is wrong with them. */
export function parseUnlinkCall(params: Record<string, unknown>): UnlinkCall | { problems: string[] } {
  const value = (name: string) => {
    const v = params[name];
    // A JSON body may carry the id as a number; a number above 2^53 would already be wrong, so only strings
    // and safe integers are read.
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    return typeof v === 'string' ? v.trim() : undefined;
  };
  const call = { appId: value('app_id'), userId: value('user_id'), referrerType: value('referrer_type') };
  const problems: string[] = [];
  if (!call.appId || !USER_ID.test(call.appId)) problems.push('app_id must be the numeric app id');
  if (!call.userId || !USER_ID.test(call.userId)) problems.push('user_id must be a numeric Kakao user id');
  if (!call.referrerType || !TOKEN.test(call.referrerType)) problems.push('referrer_type must be a referrer type');
  return problems.length ? { problems } : (call as UnlinkCall);
}

/** Security Event Token event types (KAKAO_API.md 7.2) by their last path segment. */
const ACCOUNT_EVENT_ACTIONS: Record<string, WebhookAction> = {
  'user-unlinked': 'unlink',
  'tokens-revoked': 'revoke',
  'account-disabled': 'revoke',
  'sessions-revoked': 'revoke',
  'account-credential-change-required': 'revoke',
  'credential-compromise': 'revoke',
  'user-profile-changed': 'refresh_profile',
};

/**
 * A claim of a SET as it can be stored: PostgreSQL text cannot hold U+0000, which JSON (`\u0000`) and so a
 * signed token can carry. Dropping it keeps the call instead of failing its write (and Kakao retrying it).
 */
export const storableText = (text: string): string => text.replace(/\u0000/g, '');

/** The short name of an event type URI and what it asks of us; unknown events are only recorded. */
export function accountEventAction(eventType: string): { name: string; action: WebhookAction } {
  const name = storableText(eventType).split('/').filter(Boolean).at(-1)?.slice(0, 100) ?? 'unknown';
  return { name, action: ACCOUNT_EVENT_ACTIONS[name] ?? 'record' };
}

/**
 * Kakao sends a webhook once (KAKAO_API.md 7.1), but a retried delivery or a replay must not act twice: calls
 * for the same app, user and reason within this window are one.
 */
export const UNLINK_DEDUPE_WINDOW_SECONDS = 600;

export function unlinkDedupeKey(call: UnlinkCall, userHash: string, at: Date): string {
  const bucket = Math.floor(at.getTime() / 1000 / UNLINK_DEDUPE_WINDOW_SECONDS);
  return `unlink:${call.appId}:${userHash}:${call.referrerType}:${bucket}`;
}
