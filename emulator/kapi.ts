/**
 * kapi.kakao.com: user info, manual signup, token info, logout, unlink, consent items, Kakao Sync service terms
 * and OIDC userinfo (KAKAO_API.md 3, 4, 5, 6, 8).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accessTokenTtl, clientKind } from './config';
import type { EmulatorContext } from './context';
import { consentItem, DEFAULT_PROFILE_IMAGE, DEFAULT_THUMBNAIL_IMAGE } from './personas';
import { AccessTokenEntry, rfc3339, UserState } from './state';
import {
  allParams,
  jsonStringArray,
  jsonStringRecord,
  jsonWithId,
  kapiError,
  Params,
  sendJson,
  splitList,
} from './wire';

interface Caller {
  user: UserState;
  p: Params;
  /** Present for Bearer calls. */
  token?: { value: string; entry: AccessTokenEntry };
}

/**
 * Keys `property_keys` accepts (KAKAO_API.md 4; the default `properties.*` are deprecated but still answered).
 * Custom properties (`properties.<key>`) are accepted besides, see isCustomPropertyKey.
 */
const PROPERTY_KEYS = new Set([
  'kakao_account.profile',
  'kakao_account.name',
  'kakao_account.email',
  'kakao_account.age_range',
  'kakao_account.birthday',
  'kakao_account.birthyear',
  'kakao_account.gender',
  'kakao_account.phone_number',
  'properties.nickname',
  'properties.profile_image',
  'properties.thumbnail_image',
  'for_partner.uuid',
]);

export function registerKapi(app: FastifyInstance, ctx: EmulatorContext): void {
  const { config, state } = ctx;

  /**
   * The user behind a call: a live access token (`Authorization: Bearer`), or the admin key
   * (`Authorization: KakaoAK`) with `target_id_type=user_id&target_id=…` (KAKAO_API.md 4, 5). Answers the
   * error itself and returns undefined when the call is refused.
   */
  function authenticate(request: FastifyRequest, reply: FastifyReply, adminAllowed: boolean): Caller | undefined {
    const header = request.headers.authorization;
    const p = allParams(request);
    const space = header?.indexOf(' ') ?? -1;
    const scheme = space > 0 ? header!.slice(0, space) : '';
    const credential = space > 0 ? header!.slice(space + 1).trim() : '';
    let caller: Caller | undefined;
    if (!credential) {
      // DevTalk's list of -401 answers: a request without a key gets "no authentication key!".
      kapiError(reply, -401, 'no authentication key!');
      return undefined;
    }
    if (scheme.toLowerCase() === 'bearer') {
      const entry = state.accessTokens.get(credential);
      const user = entry && state.users.get(entry.userId);
      if (!entry || !user) {
        kapiError(reply, -401, 'this access token does not exist');
        return undefined;
      }
      if (entry.expiresAt <= Date.now()) {
        kapiError(reply, -401, 'this access token is already expired');
        return undefined;
      }
      caller = { user, p, token: { value: credential, entry } };
    } else if (scheme === 'KakaoAK') {
      if (!adminAllowed || credential !== config.adminKey) {
        kapiError(reply, -401, adminAllowed ? 'wrong admin key' : 'this api needs an access token (Bearer)');
        return undefined;
      }
      if (p.target_id_type !== 'user_id' || !p.target_id || !/^\d+$/.test(p.target_id)) {
        kapiError(reply, -2, 'target_id_type=user_id and a numeric target_id are required with an admin key');
        return undefined;
      }
      const user = state.users.get(p.target_id);
      if (user?.persona.dormant) {
        kapiError(reply, -103, 'dormant or non-existent account');
        return undefined;
      }
      if (!user || !user.linked) {
        kapiError(reply, -101, 'NotRegisteredUserException');
        return undefined;
      }
      caller = { user, p };
    } else {
      kapiError(reply, -401, 'no authentication key!');
      return undefined;
    }
    if (caller.user.persona.dormant) {
      kapiError(reply, -103, 'dormant or non-existent account');
      return undefined;
    }
    return caller;
  }

  const ok = (reply: FastifyReply, user: UserState, rest: Record<string, unknown> = {}) =>
    sendJson(reply, 200, jsonWithId(user.persona.id, rest));

  // ------------------------------------------------------------------------------------------ /v2/user/me

  const userMe = async (request: FastifyRequest, reply: FastifyReply) => {
    const c = authenticate(request, reply, true);
    if (!c) return reply;
    let keys: string[] | undefined;
    try {
      keys = jsonStringArray(c.p.property_keys);
    } catch {
      return kapiError(reply, -2, 'property_keys must be a JSON array of strings');
    }
    const { user } = c;
    const unknown = keys?.find((k) => !PROPERTY_KEYS.has(k) && !isCustomPropertyKey(user, k));
    if (unknown) return kapiError(reply, -2, `invalid property_keys: ${unknown}`);
    const secure = c.p.secure_resource === 'true';
    // A PREREGISTERED user gets only id, has_signed_up, connected_at, the profile and email groups and
    // for_partner.uuid (KAKAO_API.md 4).
    const preregistered = state.isPreregistered(user);
    const body: Record<string, unknown> = {};
    // Only apps with auto-link OFF see has_signed_up, placed as in the doc's table.
    if (!state.autoLink) body.has_signed_up = !preregistered;
    if (user.connectedAt) body.connected_at = rfc3339(user.connectedAt);
    if (user.synchedAt && !preregistered) body.synched_at = rfc3339(user.synchedAt);
    body.kakao_account = kakaoAccount(user, keys, secure, preregistered);
    const properties = preregistered ? {} : userProperties(user, keys, secure);
    if (Object.keys(properties).length) body.properties = properties;
    // for_partner.uuid only with the talk_message consent (KAKAO_API.md 4).
    if (user.scopes.has('talk_message') && (!keys || keys.includes('for_partner.uuid'))) {
      body.for_partner = { uuid: uuidOf(user) };
    }
    return ok(reply, user, body);
  };
  app.get('/v2/user/me', userMe);
  app.post('/v2/user/me', userMe);

  /**
   * `properties.<key>` for a custom property: one defined in the app (`userPropertyKeys`) or one the persona
   * holds (fixtures give personas properties without defining them). `properties` holds only keys defined in
   * the console (KAKAO_API.md 4), so any other key stays unknown.
   */
  function isCustomPropertyKey(user: UserState, key: string): boolean {
    if (!key.startsWith('properties.')) return false;
    const name = key.slice('properties.'.length);
    return config.userPropertyKeys.includes(name) || Object.hasOwn(user.persona.properties ?? {}, name);
  }

  const image = (url: string, secure: boolean) => (secure ? url.replace(/^http:\/\//, 'https://') : url);

  /** Items configured in the app: an item the app does not use has neither a value nor `*_needs_agreement`. */
  const configured = (id: string) => state.configuredItems().includes(id);

  /**
   * `kakao_account` with Kakao's `*_needs_agreement` semantics (KAKAO_API.md 4): `true` when the account has
   * the data but the user has not consented; `false` with the value when consented; `false` without a value
   * when the account lacks the data.
   */
  function kakaoAccount(
    user: UserState,
    keys: string[] | undefined,
    secure: boolean,
    preregistered: boolean,
  ): Record<string, unknown> {
    const p = user.persona;
    const a: Record<string, unknown> = {};
    const want = (group: string) =>
      (!preregistered || group === 'profile' || group === 'email') &&
      (!keys || keys.includes(`kakao_account.${group}`));
    const item = (scope: string, values: () => Record<string, unknown>, needsKey = `${scope}_needs_agreement`) => {
      if (!configured(scope)) return;
      const has = state.hasData(user, scope);
      const agreed = user.scopes.has(scope);
      a[needsKey] = has && !agreed;
      if (has && agreed) Object.assign(a, values());
    };
    if (want('profile')) {
      const nick = configured('profile_nickname');
      const img = configured('profile_image');
      if (nick) a.profile_nickname_needs_agreement = p.nickname !== undefined && !user.scopes.has('profile_nickname');
      if (img) a.profile_image_needs_agreement = !user.scopes.has('profile_image');
      const profile: Record<string, unknown> = {};
      const showNick = nick && p.nickname !== undefined && user.scopes.has('profile_nickname');
      const showImg = img && user.scopes.has('profile_image');
      if (showNick) profile.nickname = p.nickname;
      if (showImg) {
        profile.thumbnail_image_url = image(p.thumbnailImageUrl ?? DEFAULT_THUMBNAIL_IMAGE, secure);
        profile.profile_image_url = image(p.profileImageUrl ?? DEFAULT_PROFILE_IMAGE, secure);
        profile.is_default_image = p.isDefaultImage ?? p.profileImageUrl === undefined;
      }
      if (showNick) profile.is_default_nickname = Boolean(p.isDefaultNickname);
      if (showNick || showImg) a.profile = profile;
    }
    if (want('name')) item('name', () => ({ name: p.name }));
    if (want('email')) {
      item(
        'account_email',
        () => ({
          is_email_valid: Boolean(p.isEmailValid),
          is_email_verified: Boolean(p.isEmailVerified),
          email: p.email,
        }),
        'email_needs_agreement',
      );
    }
    if (want('age_range')) item('age_range', () => ({ age_range: p.ageRange }));
    if (want('birthyear')) item('birthyear', () => ({ birthyear: p.birthyear }));
    if (want('birthday')) {
      item('birthday', () => ({
        birthday: p.birthday,
        birthday_type: p.birthdayType ?? 'SOLAR',
        is_leap_month: Boolean(p.isLeapMonth),
      }));
    }
    if (want('gender')) item('gender', () => ({ gender: p.gender }));
    if (want('phone_number')) item('phone_number', () => ({ phone_number: p.phoneNumber }));
    return a;
  }

  /** The app's user properties: the default nickname/profile_image/thumbnail_image (when consented) and custom ones. */
  function userProperties(user: UserState, keys: string[] | undefined, secure: boolean): Record<string, string> {
    const p = user.persona;
    const out: Record<string, string> = {};
    const want = (k: string) => !keys || keys.includes(`properties.${k}`);
    if (want('nickname') && user.scopes.has('profile_nickname') && p.nickname !== undefined) out.nickname = p.nickname;
    if (user.scopes.has('profile_image')) {
      if (want('profile_image')) out.profile_image = image(p.profileImageUrl ?? DEFAULT_PROFILE_IMAGE, secure);
      if (want('thumbnail_image')) out.thumbnail_image = image(p.thumbnailImageUrl ?? DEFAULT_THUMBNAIL_IMAGE, secure);
    }
    for (const [k, v] of Object.entries(p.properties ?? {})) if (want(k)) out[k] = v;
    return out;
  }

  function uuidOf(user: UserState): string {
    return user.persona.uuid ?? createHash('sha256').update(`uuid:${user.persona.id}`).digest('base64url').slice(0, 22);
  }

  // ------------------------------------------------------------------------------------ /v1/user/signup

  // Manual linking for apps with auto-link OFF (KAKAO_API.md 4, related admin endpoints). The order of the
  // checks is not documented: the user's state first, then the parameters.
  app.post('/v1/user/signup', async (request, reply) => {
    const c = authenticate(request, reply, false);
    if (!c) return reply;
    // With auto-link ON every linked user is REGISTERED already.
    if (!state.isPreregistered(c.user)) return kapiError(reply, -102, 'already registered');
    let properties: Record<string, string> | undefined;
    try {
      properties = jsonStringRecord(c.p.properties);
    } catch {
      return kapiError(reply, -2, 'properties must be a JSON object of string values');
    }
    const unknown = Object.keys(properties ?? {}).filter((k) => !config.userPropertyKeys.includes(k));
    if (unknown.length) {
      return kapiError(reply, -201, `user property not found ([${unknown.join(', ')}] for appId=${config.appId})`);
    }
    c.user.signedUp = true;
    if (properties) c.user.persona.properties = { ...c.user.persona.properties, ...properties };
    return ok(reply, c.user);
  });

  // ------------------------------------------------------------------------------- token info, logout, unlink

  app.get('/v1/user/access_token_info', async (request, reply) => {
    const c = authenticate(request, reply, false);
    if (!c) return reply;
    const { entry } = c.token!;
    // The remaining whole seconds (KAKAO_API.md 5). A token lives one second longer than the `expires_in` the
    // token endpoint reports (see TokenService.idTokenClaims), so right after issue this is that same value;
    // the cap keeps it from ever saying more than the token endpoint did.
    const ttl = accessTokenTtl(clientKind(config, entry.clientId) ?? 'rest');
    const expiresIn = Math.max(0, Math.min(ttl, Math.floor((entry.expiresAt - Date.now()) / 1000)));
    // {id, expires_in, app_id}; app_id is an Integer (KAKAO_API.md 5).
    return ok(reply, c.user, { expires_in: expiresIn, app_id: Number(config.appId) });
  });

  app.post('/v1/user/logout', async (request, reply) => {
    const c = authenticate(request, reply, true);
    if (!c) return reply;
    // Bearer: that token and its refresh token; admin key: all of the user's tokens (KAKAO_API.md 5).
    if (c.token) state.revokeFamily(c.token.entry.family);
    else state.revokeUser(c.user.persona.id);
    return ok(reply, c.user);
  });

  app.post('/v1/user/unlink', async (request, reply) => {
    const c = authenticate(request, reply, true);
    if (!c) return reply;
    // Revokes consents and every token; no unlink webhook follows an API unlink (KAKAO_API.md 5, 7.1).
    state.unlink(c.user);
    return ok(reply, c.user);
  });

  // ------------------------------------------------------------------------------------- consent items

  function scopesView(user: UserState, only?: string[]) {
    const ids = [...new Set([...state.configuredItems(), ...user.scopes])];
    return ids
      .filter((id) => !only || only.includes(id))
      .map((id) => {
        const item = consentItem(id)!;
        const agreed = user.scopes.has(id);
        return {
          id,
          display_name: item.displayName,
          type: item.type,
          // using:false: agreed once, but the item is no longer set in the app.
          using: state.configuredItems().includes(id),
          agreed,
          // `revocable` is present only when agreed (KAKAO_API.md 6).
          ...(agreed ? { revocable: !state.isRequiredScope(id) } : {}),
        };
      });
  }

  app.get('/v2/user/scopes', async (request, reply) => {
    const c = authenticate(request, reply, true);
    if (!c) return reply;
    let only: string[] | undefined;
    try {
      only = jsonStringArray(c.p.scopes);
    } catch {
      return kapiError(reply, -2, 'scopes must be a JSON array of strings');
    }
    // Ids the app neither configures nor holds consent for (e.g. `friends` of the doc's own example,
    // KAKAO_API.md 6) are left out: the doc gives no error for them, and `using:false` means an item once
    // agreed and no longer set, which they are not.
    return ok(reply, c.user, { scopes: scopesView(c.user, only) });
  });

  app.post('/v2/user/revoke/scopes', async (request, reply) => {
    const c = authenticate(request, reply, true);
    if (!c) return reply;
    let ids: string[] | undefined;
    try {
      ids = jsonStringArray(c.p.scopes);
    } catch {
      return kapiError(reply, -2, 'scopes must be a JSON array of strings');
    }
    const unknown = (ids ?? []).filter((id) => !consentItem(id) || !state.configuredItems().includes(id));
    if (!ids?.length || unknown.length) {
      return kapiError(
        reply,
        -2,
        `There is no scopes to revoke. check out if given scope id([${unknown.join(', ')}]) is correct again.`,
      );
    }
    const required = ids.filter((id) => state.isRequiredScope(id));
    if (required.length) {
      return kapiError(
        reply,
        -3,
        `[${required.join(', ')}] is not revocable. check out if it's set as required on developers.kakao.com`,
      );
    }
    for (const id of ids) c.user.scopes.delete(id);
    return ok(reply, c.user, { scopes: scopesView(c.user) });
  });

  // ------------------------------------------------------------------------------ Kakao Sync service terms

  const unknownTags = (tags: string[]) => tags.filter((t) => !state.term(t));

  /** One `ServiceTerms` object (KAKAO_API.md 6): tag, required, agreed, revocable, agreed_at, agreed_by. */
  function termView(user: UserState, tag: string) {
    const term = state.term(tag)!;
    const agreement = user.terms.get(tag);
    return {
      tag,
      required: term.required,
      agreed: Boolean(agreement),
      // The term's own setting, agreed or not. KAKAO_API.md 6 contradicts itself: its field list says "false
      // also when the term is not agreed", its example shows `"agreed":false,"revocable":true`. The example is
      // followed (see README, Kakao Sync terms).
      revocable: term.revocable,
      ...(agreement ? { agreed_at: rfc3339(agreement.agreedAt), agreed_by: agreement.agreedBy } : {}),
    };
  }

  app.get('/v2/user/service_terms', async (request, reply) => {
    const c = authenticate(request, reply, true);
    if (!c) return reply;
    const result = c.p.result ?? 'agreed_service_terms';
    if (result !== 'agreed_service_terms' && result !== 'app_service_terms') {
      return kapiError(reply, -2, `invalid result: ${result}`);
    }
    const tags = splitList(c.p.tags);
    const unknown = unknownTags(tags);
    if (unknown.length) {
      return kapiError(
        reply,
        -2,
        `There is no tags to get service terms. check out to configured this tags([${unknown.join(', ')}]) in app(${config.appName}).`,
      );
    }
    const terms = config.serviceTerms
      .filter((t) => !tags.length || tags.includes(t.tag))
      .filter((t) => result === 'app_service_terms' || c.user.terms.has(t.tag))
      .map((t) => termView(c.user, t.tag));
    return ok(reply, c.user, { service_terms: terms });
  });

  app.post('/v2/user/revoke/service_terms', async (request, reply) => {
    const c = authenticate(request, reply, true);
    if (!c) return reply;
    // `tags` in the body, or in the query as the SDK sends it (KAKAO_API.md 6).
    const tags = splitList(c.p.tags);
    const unknown = unknownTags(tags);
    if (!tags.length || unknown.length) {
      return kapiError(
        reply,
        -2,
        `There is no tags to revoke. check out to configured this tags([${unknown.join(', ')}]) in app(${config.appName}).`,
      );
    }
    const fixed = tags.filter((t) => !state.term(t)!.revocable && c.user.terms.has(t));
    if (fixed.length) {
      return kapiError(
        reply,
        -3,
        `[${fixed.join(', ')}] is not revocable. check out if it's set as revocable on developers.kakao.com`,
      );
    }
    // Terms the user never agreed to are left out of the answer.
    const revoked = tags.filter((t) => c.user.terms.delete(t)).map((tag) => ({ tag, agreed: false }));
    return ok(reply, c.user, { revoked_service_terms: revoked });
  });

  app.post('/v2/user/upgrade/service_terms', async (request, reply) => {
    const c = authenticate(request, reply, true);
    if (!c) return reply;
    const tags = splitList(c.p.tags);
    if (!tags.length) return kapiError(reply, -2, 'tags is required');
    // Already agreed and unknown tags are left out of the answer (KAKAO_API.md 6).
    const fresh = tags.filter((t) => state.term(t) && !c.user.terms.has(t));
    state.link(c.user, [], fresh, 'KAPI');
    const agreed = fresh.map((tag) => {
      const a = c.user.terms.get(tag)!;
      return { tag, agreed: true, agreed_at: rfc3339(a.agreedAt), agreed_by: a.agreedBy };
    });
    return ok(reply, c.user, { agreed_service_terms: agreed });
  });

  // ---------------------------------------------------------------------------------------- OIDC userinfo

  app.get('/v1/oidc/userinfo', async (request, reply) => {
    const c = authenticate(request, reply, false);
    if (!c) return reply;
    if (!config.oidc) return kapiError(reply, -3, 'OpenID Connect is not enabled for the app');
    const { user } = c;
    const p = user.persona;
    const has = (s: string) => user.scopes.has(s) && state.hasData(user, s);
    const out: Record<string, unknown> = { sub: p.id };
    if (has('name')) out.name = p.name;
    if (has('profile_nickname')) out.nickname = p.nickname;
    if (has('profile_image')) out.picture = p.thumbnailImageUrl ?? DEFAULT_THUMBNAIL_IMAGE;
    if (has('account_email')) {
      out.email = p.email;
      // true only when the email is verified and valid (KAKAO_API.md 3, OIDC userinfo).
      out.email_verified = Boolean(p.isEmailValid && p.isEmailVerified);
    }
    // The doc's example writes `"gender":"MALE"` although its table says female/male; the example is followed.
    if (has('gender')) out.gender = p.gender!.toUpperCase();
    const birthdate = birthdateOf(user, has('birthyear'), has('birthday'));
    if (birthdate) out.birthdate = birthdate;
    if (has('phone_number')) {
      out.phone_number = oidcPhone(p.phoneNumber!);
      out.phone_number_verified = true;
    }
    return sendJson(reply, 200, out);
  });
}

/** `YYYY-MM-DD`, `0000-MM-DD` (birthday only) or `YYYY` (year only) (KAKAO_API.md 3, OIDC userinfo). */
function birthdateOf(user: UserState, year: boolean, day: boolean): string | undefined {
  const p = user.persona;
  const mmdd = day && p.birthday ? `${p.birthday.slice(0, 2)}-${p.birthday.slice(2)}` : undefined;
  if (year && mmdd) return `${p.birthyear}-${mmdd}`;
  if (mmdd) return `0000-${mmdd}`;
  return year ? p.birthyear : undefined;
}

/**
 * userinfo writes Korean numbers as `+82 00-0000-0000` (KAKAO_API.md 3), i.e. without the trunk 0 that
 * `/v2/user/me` keeps (`+82 010-1234-5678`, KAKAO_API.md 4).
 */
function oidcPhone(phone: string): string {
  return phone.replace(/^\+82 0(\d)/, '+82 $1');
}
