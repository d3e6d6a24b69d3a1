import { storableText } from '../common/text';
import {
  accountEventAction,
  callAppliesToLink,
  parseUnlinkCall,
  SET_MAX_AGE_SECONDS,
  setTimeProblem,
  unlinkDedupeKey,
  unlinkParams,
} from './kakao-webhook-events';

describe('parseUnlinkCall', () => {
  it('reads the parameters as strings, whatever the transport gave', () => {
    expect(
      parseUnlinkCall({ app_id: '1234567', user_id: '4000000000000001001', referrer_type: 'UNLINK_FROM_APPS' }),
    ).toEqual({
      appId: '1234567',
      userId: '4000000000000001001',
      referrerType: 'UNLINK_FROM_APPS',
    });
    // A JSON body with a safe-integer id; an unknown future referrer type is still a call.
    expect(parseUnlinkCall({ app_id: 1234567, user_id: 42, referrer_type: 'SOMETHING_NEW' })).toEqual({
      appId: '1234567',
      userId: '42',
      referrerType: 'SOMETHING_NEW',
    });
  });

  // Audit: each of these was a 400, which Kakao counts as a failed delivery (KAKAO_API.md 7.1: 200, always).
  it('applies a call without app_id (the admin key names the app) or without a readable referrer_type', () => {
    expect(parseUnlinkCall({ user_id: '0', referrer_type: 'UNLINK_FROM_APPS' })).toEqual({
      appId: null,
      userId: '0',
      referrerType: 'UNLINK_FROM_APPS',
    });
    expect(parseUnlinkCall({ app_id: '', user_id: '7' })).toEqual({ appId: null, userId: '7', referrerType: null });
    expect(parseUnlinkCall({ app_id: '1', user_id: '7', referrer_type: ['A', 'B'] })).toEqual({
      appId: '1',
      userId: '7',
      referrerType: null,
    });
    expect(parseUnlinkCall({ app_id: '1', user_id: '7', referrer_type: 'a b' })).toEqual({
      appId: '1',
      userId: '7',
      referrerType: null,
    });
  });

  it('names every problem of a call that names no user for sure, keeping what is storable', () => {
    expect(parseUnlinkCall({ app_id: 'x' })).toEqual({
      problems: ['app_id must be the numeric app id', 'user_id must be a numeric Kakao user id'],
      userId: null,
      referrerType: null,
    });
    expect(parseUnlinkCall({ user_id: '400000000000000000031', referrer_type: 'UNLINK_FROM_APPS' })).toEqual({
      problems: ['user_id must be a numeric Kakao user id'],
      userId: '400000000000000000031',
      referrerType: 'UNLINK_FROM_APPS',
    });
    // An id above 2^53 that arrived as a JSON number has already lost digits: not applied to anyone.
    expect(parseUnlinkCall({ app_id: '1', user_id: 4000000000000001001, referrer_type: 'X' })).toHaveProperty(
      'problems',
    );
    expect(parseUnlinkCall({ app_id: '1', user_id: ['1', '2'], referrer_type: 'X' })).toHaveProperty('problems');
    expect(parseUnlinkCall({ app_id: ['1', '2'], user_id: '1' })).toHaveProperty('problems');
  });
});

describe('unlinkParams', () => {
  const JSON_BODY = '{"app_id":1000001,"user_id":4000000000000000003,"referrer_type":"UNLINK_FROM_APPS"}';

  it('keeps every digit of ids written as JSON numbers', () => {
    const read = unlinkParams({}, JSON_BODY, 'application/json; charset=utf-8');
    expect(read).toEqual({
      params: { app_id: '1000001', user_id: '4000000000000000003', referrer_type: 'UNLINK_FROM_APPS' },
    });
    expect(parseUnlinkCall((read as { params: Record<string, unknown> }).params)).toEqual({
      appId: '1000001',
      userId: '4000000000000000003',
      referrerType: 'UNLINK_FROM_APPS',
    });
  });

  it('reads a form, and a parameter given twice (or in the query and the body) becomes ambiguous', () => {
    expect(unlinkParams({}, 'user_id=1&referrer_type=X', 'application/x-www-form-urlencoded;charset=utf-8')).toEqual({
      params: { user_id: '1', referrer_type: 'X' },
    });
    const twice = unlinkParams({}, 'user_id=1&user_id=2', 'application/x-www-form-urlencoded');
    expect(twice).toEqual({ params: { user_id: ['1', '2'] } });
    expect(parseUnlinkCall((twice as { params: Record<string, unknown> }).params)).toHaveProperty('problems');
    expect(unlinkParams({ user_id: '1' }, 'user_id=2', 'application/x-www-form-urlencoded')).toEqual({
      params: { user_id: ['1', '2'] },
    });
  });

  it('takes the query alone when there is no body, and says what is wrong with an unreadable one', () => {
    expect(unlinkParams({ user_id: '1' }, undefined, undefined)).toEqual({ params: { user_id: '1' } });
    expect(unlinkParams({ user_id: '1' }, '', 'text/plain')).toEqual({ params: { user_id: '1' } });
    expect(unlinkParams({}, '{"user_id":', 'application/json')).toEqual({ problem: 'the body is not valid JSON' });
    expect(unlinkParams({}, '[1]', 'application/json')).toEqual({ problem: 'the JSON body must be an object' });
    expect(unlinkParams({}, 'user_id=1', 'text/plain')).toEqual({
      problem: 'a body of type text/plain cannot carry the parameters',
    });
    expect(unlinkParams({}, 'user_id=1', undefined)).toHaveProperty('problem');
  });

  it('keeps `__proto__` in a body a plain parameter', () => {
    const read = unlinkParams({}, '{"__proto__":{"user_id":"1"}}', 'application/json') as {
      params: Record<string, unknown>;
    };
    expect(read.params.user_id).toBeUndefined();
    expect(parseUnlinkCall(read.params)).toHaveProperty('problems');
  });
});

describe('accountEventAction', () => {
  const oauth = 'https://schemas.openid.net/secevent/oauth/event-type/';
  const risc = 'https://schemas.openid.net/secevent/risc/event-type/';
  it.each([
    [`${oauth}user-unlinked`, 'user-unlinked', 'unlink'],
    [`${oauth}tokens-revoked`, 'tokens-revoked', 'revoke'],
    [`${risc}account-disabled`, 'account-disabled', 'revoke'],
    [`${risc}sessions-revoked`, 'sessions-revoked', 'revoke'],
    [`${risc}account-credential-change-required`, 'account-credential-change-required', 'revoke'],
    [`${risc}credential-compromise`, 'credential-compromise', 'revoke'],
    [
      'https://schemas.kakao.com/platevent/kakao/event-type/user-profile-changed',
      'user-profile-changed',
      'refresh_profile',
    ],
    // Audit: these two were only recorded.
    [`${risc}account-purged`, 'account-purged', 'unlink'],
    [`${oauth}token-revoked`, 'token-revoked', 'drop_kakao_token'],
    [`${oauth}user-linked`, 'user-linked', 'record'],
    [`${risc}account-enabled`, 'account-enabled', 'record'],
    ['urn:example:something', 'urn:example:something', 'record'],
  ])('%s → %s, %s', (uri, name, action) => {
    expect(accountEventAction(uri)).toEqual({ name, action });
  });
});

describe('unlinkDedupeKey', () => {
  // Audit: the key was app:user:reason:10-minute bucket, so a second genuine unlink of a re-linked account
  // within 10 minutes was dropped as a duplicate. Each call is its own row now.
  it('differs for every call, even for the same user and reason at the same moment', () => {
    expect(unlinkDedupeKey()).not.toBe(unlinkDedupeKey());
  });
});

describe('callAppliesToLink', () => {
  it('applies to a link made before the call was received, never to a newer one', () => {
    const received = new Date('2026-11-23T10:00:00.000Z');
    expect(callAppliesToLink(new Date('2026-11-23T09:59:59.999Z'), received)).toBe(true);
    // The same millisecond: the link may predate the call, so it is cut (the unlink errs on the safe side).
    expect(callAppliesToLink(received, received)).toBe(true);
    expect(callAppliesToLink(new Date('2026-11-23T10:00:00.001Z'), received)).toBe(false);
  });
});

describe('setTimeProblem', () => {
  const now = 1_800_000_000;
  it('accepts a SET of now, with a little clock skew, and an event time in the past', () => {
    expect(setTimeProblem({ iat: now, toe: now }, now)).toBeUndefined();
    expect(setTimeProblem({ iat: now + 60, toe: now - 86_400 }, now)).toBeUndefined();
    expect(setTimeProblem({ iat: now }, now)).toBeUndefined();
  });

  // Audit: toe 1e20 failed the inbox write (timestamp out of range) with a 500.
  it.each([
    [{ iat: now, toe: 1e20 }, 'toe is in the future'],
    [{ iat: now, toe: -1 }, 'toe must be a NumericDate'],
    [{ iat: now, toe: '2026-01-01' }, 'toe must be a NumericDate'],
    [{ iat: 1e20 }, 'iat is in the future'],
    [{ iat: now + 61 }, 'iat is in the future'],
    [{ iat: Number.NaN }, 'iat must be a NumericDate'],
    // Older than the inbox keeps the jti: a replay would act again.
    [{ iat: now - SET_MAX_AGE_SECONDS - 1 }, 'iat is too old'],
    [{ iat: -1e20 }, 'iat is too old'],
  ])('refuses %j: %s', (claims, problem) => {
    expect(setTimeProblem(claims, now)).toBe(problem);
  });

  it('keeps the maximum age inside the inbox retention of 30 days', () => {
    expect(SET_MAX_AGE_SECONDS).toBeLessThan(30 * 24 * 3600);
  });
});

describe('storableText', () => {
  // Found by the fuzz (test/e2e/fuzz.e2e-spec.ts): a signed SET whose reason was "\u0000" failed its inbox
  // write with a 500, since PostgreSQL text cannot hold U+0000.
  it('drops U+0000 from claims before they are stored, in the event name too', () => {
    expect(storableText('UNLINK\u0000_FROM_APPS\u0000')).toBe('UNLINK_FROM_APPS');
    expect(accountEventAction('https://schemas.openid.net/secevent/oauth/event-type/user-unlinked\u0000')).toEqual({
      name: 'user-unlinked',
      action: 'unlink',
    });
    expect(accountEventAction('\u0000://').name).not.toContain('\u0000');
  });
});
