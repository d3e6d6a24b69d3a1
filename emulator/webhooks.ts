/** Kakao's webhooks, sent by the emulator to a receiver (KAKAO_API.md 7). */
import { randomUUID } from 'node:crypto';
import type { ResolvedConfig } from './config';
import type { KeyRing } from './keys';
import type { AccountStatusEventInput, AccountStatusResult, UnlinkWebhookInput, WebhookResult } from './types';
import { nowSeconds } from './wire';

/** Kakao waits 3 s for an answer (KAKAO_API.md 7, common rules). */
export const WEBHOOK_TIMEOUT_MS = 3000;

/**
 * Kakao names its webhooks' User-Agent only for the Talk Channel webhook (KAKAO_API.md 7.3); 7.1 and 7.2 name
 * none. The same value is sent on every webhook here, so a receiver never sees Node's `node`.
 */
export const WEBHOOK_USER_AGENT = 'KakaoOpenAPI/1.0';

/** Event-type URIs of the account status change webhook (KAKAO_API.md 7.2), by short name. */
export const SET_EVENT_TYPES = {
  'user-linked': 'https://schemas.openid.net/secevent/oauth/event-type/user-linked',
  'user-unlinked': 'https://schemas.openid.net/secevent/oauth/event-type/user-unlinked',
  'user-scope-consent': 'https://schemas.openid.net/secevent/oauth/event-type/user-scope-consent',
  'user-scope-withdraw': 'https://schemas.openid.net/secevent/oauth/event-type/user-scope-withdraw',
  'token-issued': 'https://schemas.openid.net/secevent/oauth/event-type/token-issued',
  'token-revoked': 'https://schemas.openid.net/secevent/oauth/event-type/token-revoked',
  'tokens-revoked': 'https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked',
  'account-disabled': 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  'account-enabled': 'https://schemas.openid.net/secevent/risc/event-type/account-enabled',
  'account-purged': 'https://schemas.openid.net/secevent/risc/event-type/account-purged',
  'account-credential-change-required':
    'https://schemas.openid.net/secevent/risc/event-type/account-credential-change-required',
  'credential-compromise': 'https://schemas.openid.net/secevent/risc/event-type/credential-compromise',
  'identifier-changed': 'https://schemas.openid.net/secevent/risc/event-type/identifier-changed',
  'identifier-recycled': 'https://schemas.openid.net/secevent/risc/event-type/identifier-recycled',
  'sessions-revoked': 'https://schemas.openid.net/secevent/risc/event-type/sessions-revoked',
  'assurance-level-change': 'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change',
  'credential-change': 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  'user-profile-changed': 'https://schemas.kakao.com/platevent/kakao/event-type/user-profile-changed',
} as const;

export type SetEventName = keyof typeof SET_EVENT_TYPES;

/** `referrer_type` values of the unlink webhook (KAKAO_API.md 7.1; the last two are UNCONFIRMED). */
export const UNLINK_REFERRER_TYPES = [
  'ACCOUNT_DELETE',
  'FORCED_ACCOUNT_DELETE',
  'UNLINK_FROM_ADMIN',
  'UNLINK_FROM_APPS',
  'INCOMPLETE_SIGN_UP',
  'REVOKE_ACCOUNT_SERVICE_TERMS',
  'UNLINK_FROM_SERVICE',
] as const;

async function deliver(url: string, init: RequestInit): Promise<WebhookResult> {
  const started = Date.now();
  try {
    // Redirects are not followed: Kakao does not support 3xx answers (KAKAO_API.md 7).
    const res = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), 'user-agent': WEBHOOK_USER_AGENT },
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    const body = await res.text();
    return { status: res.status, body, durationMs: Date.now() - started };
  } catch (err) {
    // Checked by name: the abort error may come from another realm (a DOMException), failing instanceof.
    const { name, message } = (err ?? {}) as { name?: string; message?: string };
    const error = name === 'TimeoutError' ? 'timeout' : (message ?? String(err));
    return { status: 0, body: '', durationMs: Date.now() - started, error };
  }
}

/**
 * The unlink webhook (KAKAO_API.md 7.1): GET with a query string or POST with a form body (the POST encoding
 * is UNCONFIRMED; form-urlencoded as the doc advises), `Authorization: KakaoAK <admin key>`, `app_id`,
 * `user_id` (a string), `referrer_type`.
 */
export function sendUnlinkWebhook(
  config: ResolvedConfig,
  url: string,
  input: UnlinkWebhookInput,
): Promise<WebhookResult> {
  const params = new URLSearchParams({
    app_id: input.appId ?? config.appId,
    user_id: input.userId,
    referrer_type: input.referrerType ?? 'UNLINK_FROM_APPS',
  });
  if (input.groupUserToken) params.set('group_user_token', input.groupUserToken);
  const headers: Record<string, string> = { authorization: `KakaoAK ${input.adminKey ?? config.adminKey}` };
  if ((input.method ?? 'POST') === 'GET') {
    const target = new URL(url);
    for (const [k, v] of params) target.searchParams.set(k, v);
    return deliver(target.toString(), { method: 'GET', headers });
  }
  headers['content-type'] = 'application/x-www-form-urlencoded;charset=utf-8';
  return deliver(url, { method: 'POST', headers, body: params.toString() });
}

export function eventTypeUri(event: string | undefined): string {
  if (!event) return SET_EVENT_TYPES['user-unlinked'];
  if (event.includes('://')) return event;
  const uri = (SET_EVENT_TYPES as Record<string, string>)[event];
  if (!uri)
    throw new Error(
      `unknown account status event ${event}; use a URI or one of ${Object.keys(SET_EVENT_TYPES).join(', ')}`,
    );
  return uri;
}

/**
 * The account status change webhook (KAKAO_API.md 7.2): a Security Event Token signed with the emulator's
 * RS256 key (the same JWKS as id_tokens), header `typ: secevent+jwt`, POSTed as `application/secevent+jwt`.
 */
export async function sendAccountStatusEvent(
  config: ResolvedConfig,
  keys: KeyRing,
  url: string,
  input: AccountStatusEventInput,
): Promise<AccountStatusResult> {
  const iss = input.issuer ?? config.issuer;
  const now = nowSeconds();
  const jti = input.jti ?? randomUUID().replace(/-/g, '');
  const token = await keys.sign(
    {
      iss,
      aud: input.audience ?? config.restApiKey,
      sub: input.userId,
      iat: now,
      jti,
      toe: input.toe ?? now,
      txm: randomUUID(),
      events: {
        [eventTypeUri(input.event)]: {
          subject: { subject_type: 'iss-sub', iss, sub: input.userId },
          ...(input.reason ? { reason: input.reason } : {}),
          ...input.eventData,
        },
      },
    },
    'secevent+jwt',
  );
  const result = await deliver(url, {
    method: 'POST',
    headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json' },
    body: token,
  });
  return { ...result, jti, token };
}
