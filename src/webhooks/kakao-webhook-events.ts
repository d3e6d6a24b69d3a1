/**
 * What Kakao's webhook calls mean (KAKAO_API.md 7). Pure, so each rule is a unit test.
 */
import { randomUUID } from 'node:crypto';
import { storableText } from '../common/text';
import { parseKakaoJson } from '../kakao/kakao-json';

/** What processing does for a call. */
export type WebhookAction = 'unlink' | 'revoke' | 'drop_kakao_token' | 'refresh_profile' | 'record';

/** `referrer_type`s Kakao documents; any other (future) value is accepted and handled as an unlink too. */
export const KNOWN_REFERRER_TYPES = [
  'ACCOUNT_DELETE',
  'FORCED_ACCOUNT_DELETE',
  'UNLINK_FROM_ADMIN',
  'UNLINK_FROM_APPS',
  'INCOMPLETE_SIGN_UP',
] as const;

export interface UnlinkCall {
  /** Absent in some of Kakao's own examples (KAKAO_API.md 7.1): the admin key already names our app. */
  appId: string | null;
  userId: string;
  /** Only a label of the call: a missing or malformed one does not change what the unlink does. */
  referrerType: string | null;
}

/** An authenticated call that cannot be applied: recorded as invalid, still answered 200. */
export interface InvalidUnlinkCall {
  problems: string[];
  /** What the call named, as far as it is storable, for the record. */
  userId: string | null;
  referrerType: string | null;
}

const NUMERIC_ID = /^\d{1,20}$/;
const TOKEN = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The unlink webhook's parameters (query for GET, form or JSON for POST). A parameter given twice (an
 * array here) names nothing for sure: for `app_id` or `user_id` that makes the call invalid.
 */
export function parseUnlinkCall(params: Record<string, unknown>): UnlinkCall | InvalidUnlinkCall {
  const value = (name: string) => {
    const v = params[name];
    // A JSON number is only read when it is exact; the raw-body reader turns ids into strings before.
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
    return typeof v === 'string' ? v.trim() : v === undefined ? undefined : null;
  };
  const appId = value('app_id');
  const userId = value('user_id');
  const referrerType = value('referrer_type');
  const problems: string[] = [];
  if (appId !== undefined && appId !== '' && (appId === null || !NUMERIC_ID.test(appId))) {
    problems.push('app_id must be the numeric app id');
  }
  if (!userId || !NUMERIC_ID.test(userId)) problems.push('user_id must be a numeric Kakao user id');
  const reason = referrerType && TOKEN.test(referrerType) ? referrerType : null;
  if (problems.length) {
    return { problems, userId: userId ? userId.slice(0, 64) : null, referrerType: reason };
  }
  return { appId: appId || null, userId: userId!, referrerType: reason };
}

/** Content types a POST of the unlink webhook may carry its parameters in (KAKAO_API.md 7.1: UNCONFIRMED). */
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/**
 * The parameters of an unlink call from its query and its raw body, read here rather than by the framework:
 * a body the framework would refuse (malformed JSON, another content type) is still an authenticated call
 * Kakao wants answered 200, and ids written as JSON numbers keep their digits (they exceed 2^53). A name
 * given more than once (also once in the query and once in the body) becomes an array.
 */
export function unlinkParams(
  query: Record<string, unknown>,
  body: string | undefined,
  contentType: string | undefined,
): { params: Record<string, unknown> } | { problem: string } {
  // No prototype: a body naming `__proto__` stays a plain parameter.
  const params: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, query);
  const add = (name: string, v: unknown) => {
    if (!(name in params)) params[name] = v;
    else params[name] = [params[name], v].flat();
  };
  if (!body?.trim()) return { params };
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === FORM) {
    for (const [name, v] of new URLSearchParams(body)) add(name, v);
    return { params };
  }
  if (JSON_TYPE.test(type)) {
    let parsed: unknown;
    try {
      parsed = parseKakaoJson(body);
    } catch {
      return { problem: 'the body is not valid JSON' };
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { problem: 'the JSON body must be an object' };
    }
    for (const [name, v] of Object.entries(parsed)) add(name, v);
    return { params };
  }
  return { problem: `a body of type ${type.slice(0, 100) || 'unknown'} cannot carry the parameters` };
}

/** Security Event Token event types (KAKAO_API.md 7.2) by their last path segment. */
const ACCOUNT_EVENT_ACTIONS: Record<string, WebhookAction> = {
  'user-unlinked': 'unlink',
  // RISC: the Kakao account no longer exists, so neither does the link (as ACCOUNT_DELETE of the unlink webhook).
  'account-purged': 'unlink',
  'tokens-revoked': 'revoke',
  // OAuth: one token of the app was revoked; the Kakao token we hold is no longer usable, our sessions are ours.
  'token-revoked': 'drop_kakao_token',
  'account-disabled': 'revoke',
  'sessions-revoked': 'revoke',
  'account-credential-change-required': 'revoke',
  'credential-compromise': 'revoke',
  'user-profile-changed': 'refresh_profile',
};

/** The short name of an event type URI and what it asks of us; unknown events are only recorded. */
export function accountEventAction(eventType: string): { name: string; action: WebhookAction } {
  const name = storableText(eventType).split('/').filter(Boolean).at(-1)?.slice(0, 100) ?? 'unknown';
  return { name, action: ACCOUNT_EVENT_ACTIONS[name] ?? 'record' };
}

/** Clock skew allowed on a SET's `iat` and `toe` (as on id_tokens). */
const SET_CLOCK_TOLERANCE_SECONDS = 60;
/**
 * Oldest SET accepted. A jti is recognised as long as its inbox row exists, and processed rows are swept
 * after 30 days (src/database/housekeeping.ts): a token older than that could otherwise be replayed and
 * act again. A day of margin covers the sweep's schedule and the clock tolerance.
 */
export const SET_MAX_AGE_SECONDS = 29 * 24 * 3600;

/**
 * What is wrong with a verified SET's times, if anything. `iat` and `toe` are NumericDates (RFC 8417 2.2);
 * one out of range (1e20) is refused here rather than failing the inbox write as a timestamp.
 */
export function setTimeProblem(claims: { iat?: unknown; toe?: unknown }, nowSeconds: number): string | undefined {
  const { iat, toe } = claims;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'iat must be a NumericDate';
  if (iat > nowSeconds + SET_CLOCK_TOLERANCE_SECONDS) return 'iat is in the future';
  if (iat < nowSeconds - SET_MAX_AGE_SECONDS) return 'iat is too old';
  if (toe === undefined) return undefined;
  if (typeof toe !== 'number' || !Number.isFinite(toe) || toe < 0) return 'toe must be a NumericDate';
  if (toe > nowSeconds + SET_CLOCK_TOLERANCE_SECONDS) return 'toe is in the future';
  return undefined;
}

/**
 * Each unlink call is its own inbox row. Kakao sends a call once and does not retry (KAKAO_API.md 7.1), and
 * two calls for one user are two unlinks (a re-link may come between them), so calls are not merged; what
 * keeps processing idempotent is that a call only cuts a link made before it was received. The key is made
 * once per call, so a retried write of the same call (see KakaoWebhooksService.keepWriting) stays one row.
 */
export function unlinkDedupeKey(): string {
  return `unlink:${randomUUID()}`;
}

/**
 * Whether a call applies to a link: only to one made before the call was received (both times from the
 * database's clock). A late-processed or repeated call never cuts a link made after it.
 */
export const callAppliesToLink = (linkedAt: Date, receivedAt: Date): boolean =>
  linkedAt.getTime() <= receivedAt.getTime();
