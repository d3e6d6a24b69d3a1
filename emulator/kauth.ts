/**
 * kauth.kakao.com: authorize (with the consent page), token, OIDC discovery and JWKS, tokeninfo, logout
 * (KAKAO_API.md 1, 2, 3, 5).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientKind, TTL } from './config';
import { consentPage, errorPage } from './consent-page';
import type { EmulatorContext } from './context';
import { consentItem } from './personas';
import { opaque, UserState } from './state';
import { TOKEN_PATH, TokenEndpoint } from './token-endpoint';
import { formParams, kauthError, nowSeconds, Params, queryParams, redirect, sendJson, splitList } from './wire';

/** Cookie standing in for the Kakao Account browser session (KAKAO_API.md 1, "Session facts"). */
export const SESSION_COOKIE = 'kakao_emulator_session';
const PROMPTS = new Set(['login', 'none', 'create', 'select_account']);

/** How the user decided on the consent items: the persona's habits, everything, or an explicit list. */
type Agreement = 'default' | 'all' | string[];

export function registerKauth(app: FastifyInstance, ctx: EmulatorContext, token: TokenEndpoint): void {
  const { config, state, keys } = ctx;

  // ------------------------------------------------------------------------------------------- discovery

  let discovery: string | undefined;
  app.get('/.well-known/openid-configuration', async (_request, reply) => {
    // The exact document of KAKAO_API.md 3, with this emulator's URLs (userinfo lives on the kapi paths).
    discovery ??= JSON.stringify({
      issuer: config.issuer,
      authorization_endpoint: `${config.baseUrl}/oauth/authorize`,
      token_endpoint: `${config.baseUrl}/oauth/token`,
      userinfo_endpoint: `${config.baseUrl}/v1/oidc/userinfo`,
      jwks_uri: `${config.baseUrl}/.well-known/jwks.json`,
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      request_uri_parameter_supported: false,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      claims_supported: ['iss', 'aud', 'sub', 'auth_time', 'exp', 'iat', 'nonce', 'nickname', 'picture', 'email'],
    });
    return sendJson(reply, 200, discovery, 'application/json;charset=utf-8');
  });

  app.get('/.well-known/jwks.json', async (_request, reply) =>
    sendJson(reply, 200, keys.jwksJson(), 'application/json;charset=utf-8'),
  );

  // ------------------------------------------------------------------------------------------- authorize

  /** KOE errors are shown on Kakao's own page and the redirect URI is not called (KAKAO_API.md 1). */
  const showError = (reply: FastifyReply, code: string, message: string) =>
    reply.code(400).header('content-type', 'text/html; charset=utf-8').send(errorPage(code, message));

  /** The KOE error an authorize request deserves, if any, in the order Kakao checks the app, then the request. */
  function invalidAuthorize(p: Params): [string, string] | undefined {
    if (p.client_id && p.client_id === config.adminKey) return ['KOE008', 'The admin key cannot be used as client_id'];
    if (!clientKind(config, p.client_id)) return ['KOE101', `Invalid client_id: ${p.client_id ?? '(missing)'}`];
    if (!p.redirect_uri || !config.redirectUris.includes(p.redirect_uri)) {
      return ['KOE006', `Unregistered redirect_uri: ${p.redirect_uri ?? '(missing)'}`];
    }
    if (p.response_type === 'token') return ['KOE202', 'Implicit grant (response_type=token) is not supported'];
    if (p.response_type !== 'code') return ['KOE201', `Unsupported response type: ${p.response_type ?? ''}`];
    if (p.code_challenge !== undefined) {
      // Only S256 (discovery's code_challenge_methods_supported); the mismatch code is UNCONFIRMED (KOE001 here).
      if (p.code_challenge_method !== 'S256') return ['KOE001', 'code_challenge_method must be S256'];
      if (!/^[A-Za-z0-9_-]{43}$/.test(p.code_challenge)) return ['KOE001', 'code_challenge is not a base64url SHA-256'];
    }
    if (p.channel_public_id) {
      return ['KOE102', 'Required PLUS_FRIENDS_ON_AGREEMENT_SUPPORTED permission (no Talk Channel is linked)'];
    }
    const unknownPrompt = splitList(p.prompt).find((v) => !PROMPTS.has(v));
    if (unknownPrompt) return ['KOE001', `Unsupported prompt: ${unknownPrompt}`];
    const configured = new Set(state.configuredItems());
    const badScope = splitList(p.scope).find((s) => (s === 'openid' ? !config.oidc : !configured.has(s)));
    if (badScope) return ['KOE205', `Consent item not configured for the app: ${badScope}`];
    if (p.service_terms !== undefined) {
      const tags = splitList(p.service_terms);
      const unknown = tags.find((t) => !state.term(t));
      if (unknown) return ['KOE001', `Unknown service_terms tag: ${unknown}`];
      // "At least one tag set as required must be included, or the screen cannot be shown" (KAKAO_API.md 1).
      if (!tags.some((t) => state.term(t)?.required)) return ['KOE001', 'service_terms must include a required term'];
    }
    return undefined;
  }

  /** Consent items a request asks of this user: the `scope` list (plus required items on a first link), or all. */
  function askedScopes(user: UserState | undefined, p: Params): string[] {
    const requested = splitList(p.scope).filter((s) => s !== 'openid');
    const firstLink = !user?.linked;
    if (!p.scope) return firstLink ? state.configuredItems() : [];
    return firstLink ? [...new Set([...config.requiredScopes, ...requested])] : requested;
  }

  /** Service terms a request shows: `service_terms`, or every term on a first link (Kakao Sync). */
  function askedTerms(user: UserState | undefined, p: Params): string[] {
    if (p.service_terms !== undefined) return splitList(p.service_terms);
    return user?.linked ? [] : config.serviceTerms.map((t) => t.tag);
  }

  /** Whether the consent screen would have something to ask (then `prompt=none` fails). */
  function needsInteraction(user: UserState, p: Params): boolean {
    if (!user.linked) return true;
    if (askedScopes(user, p).some((s) => !user.scopes.has(s) && state.hasData(user, s))) return true;
    return askedTerms(user, p).some((t) => !user.terms.has(t));
  }

  function session(request: FastifyRequest): { user: UserState; authTime: number } | undefined {
    const cookie = request.headers.cookie;
    if (!cookie) return undefined;
    const match = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=(\\d+)\\.(\\d+)`).exec(cookie);
    const user = match ? state.users.get(match[1]) : undefined;
    return user && match ? { user, authTime: Number(match[2]) } : undefined;
  }

  /** Records the consent, issues the code and sends the browser back (KAKAO_API.md 1, success response). */
  function grant(reply: FastifyReply, p: Params, user: UserState, agreement: Agreement, authTime = nowSeconds()) {
    const scopesAsked = askedScopes(user, p);
    const termsAsked = askedTerms(user, p);
    // Required items and terms cannot be unticked on Kakao's screen, so they are always part of the agreement.
    const picked = (asked: string[], required: (x: string) => boolean, defaults: string[]) =>
      agreement === 'default'
        ? defaults
        : agreement === 'all'
          ? asked
          : asked.filter((x) => required(x) || agreement.includes(x));
    const scopes = picked(scopesAsked, (s) => state.isRequiredScope(s), state.personaDefaultScopes(user, scopesAsked));
    const terms = picked(
      termsAsked,
      (t) => Boolean(state.term(t)?.required),
      state.personaDefaultTerms(user, termsAsked),
    );
    state.link(user, scopes, terms, 'KAUTH');
    // With OIDC on, a login gets an id_token; an additional-consent request only when its scope has openid.
    const openid = config.oidc && (!p.scope || splitList(p.scope).includes('openid'));
    const code = opaque(64);
    state.addCode(code, {
      userId: user.persona.id,
      clientId: p.client_id!,
      redirectUri: p.redirect_uri!,
      openid,
      nonce: p.nonce,
      codeChallenge: p.code_challenge,
      authTime,
      expiresAt: Date.now() + TTL.code * 1000,
    });
    void reply.header('set-cookie', `${SESSION_COOKIE}=${user.persona.id}.${authTime}; Path=/; HttpOnly; SameSite=Lax`);
    return redirect(reply, p.redirect_uri!, { code, state: p.state });
  }

  const deny = (reply: FastifyReply, p: Params) =>
    redirect(reply, p.redirect_uri!, {
      error: 'access_denied',
      error_description: 'User denied access',
      state: p.state,
    });

  function agreementOf(value: string | undefined): Agreement {
    if (value === undefined) return 'default';
    return value === 'all' ? 'all' : splitList(value);
  }

  function renderConsent(reply: FastifyReply, requestId: string, p: Params, selected?: string, error?: string) {
    const accounts = [...state.users.values()].map((u) => ({
      id: u.persona.id,
      nickname: u.persona.nickname,
      email: u.persona.email,
      description: u.persona.description,
      linked: u.linked,
      dormant: Boolean(u.persona.dormant),
    }));
    // The picker does not know the account yet: show what a first link would ask.
    const scopes = askedScopes(undefined, p).map((id) => ({
      id,
      title: consentItem(id)?.title ?? id,
      required: state.isRequiredScope(id),
    }));
    const terms = askedTerms(undefined, p).map((tag) => {
      const t = state.term(tag)!;
      return { tag, title: t.title ?? tag, required: t.required };
    });
    return reply
      .code(200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        consentPage({ requestId, appName: config.appName, accounts, selectedUserId: selected, scopes, terms, error }),
      );
  }

  app.get('/oauth/authorize', async (request, reply) => {
    const p = queryParams(request);
    const invalid = invalidAuthorize(p);
    if (invalid) return showError(reply, invalid[0], invalid[1]);
    const prompts = splitList(p.prompt);
    if (p.emulator_cancel) return deny(reply, p);

    let named: UserState | undefined;
    if (p.emulator_user) {
      named = state.users.get(p.emulator_user);
      if (!named) return showError(reply, 'KOE001', `emulator_user ${p.emulator_user} is not a persona`);
    }
    // prompt=login asks for a fresh authentication, so the browser session does not count.
    const current = prompts.includes('login') ? undefined : session(request);
    const next = state.nextUser ? state.users.get(state.nextUser) : undefined;

    if (prompts.includes('none')) {
      // No UI allowed: only a user already linked, with nothing new to consent to, gets a code (KAKAO_API.md 1, 9).
      const user = named ?? current?.user ?? next;
      if (!user || needsInteraction(user, p)) {
        return redirect(reply, p.redirect_uri!, {
          error: 'consent_required',
          error_description: 'user consent required.',
          state: p.state,
        });
      }
      return grant(reply, p, user, 'default', named ? nowSeconds() : current?.authTime);
    }
    // Skip switches for tests: decide at once, as the named (or next) user.
    if (named) return grant(reply, p, named, agreementOf(p.emulator_agree));
    if (p.emulator_agree !== undefined) {
      const user = next ?? current?.user;
      if (!user) return showError(reply, 'KOE001', 'emulator_agree needs emulator_user or a next user');
      // Consenting within a Kakao session is no new authentication: auth_time stays the session's.
      return grant(reply, p, user, agreementOf(p.emulator_agree), next ? undefined : current?.authTime);
    }
    if (next) return grant(reply, p, next, 'default');
    // "The consent screen appears only the first time the app is linked. Later logins issue a code immediately."
    const interactive = prompts.some((v) => v === 'select_account' || v === 'create');
    if (current && !interactive && !needsInteraction(current.user, p)) {
      return grant(reply, p, current.user, 'default', current.authTime);
    }
    const requestId = randomBytes(16).toString('hex');
    const signedIn = current && { userId: current.user.persona.id, authTime: current.authTime };
    state.pendingConsents.set(requestId, { params: p, createdAt: Date.now(), session: signedIn });
    return renderConsent(reply, requestId, p, current?.user.persona.id);
  });

  app.post('/oauth/authorize/consent', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string | string[] | undefined>;
    const requestId = typeof form.request_id === 'string' ? form.request_id : '';
    const pending = state.pendingConsents.get(requestId);
    if (!pending) return showError(reply, 'KOE001', 'The consent request expired or was already answered');
    const p = pending.params;
    if (form.decision !== 'agree') {
      state.pendingConsents.delete(requestId);
      return deny(reply, p);
    }
    const user = typeof form.user === 'string' ? state.users.get(form.user) : undefined;
    if (!user) return renderConsent(reply, requestId, p, undefined, '카카오계정을 선택해 주세요. Choose an account.');
    const agreed = ([] as string[]).concat(form.agree ?? []);
    const missing = [
      ...askedTerms(user, p).filter((t) => state.term(t)?.required),
      ...askedScopes(user, p).filter((s) => state.isRequiredScope(s) && state.hasData(user, s)),
    ].filter((x) => !agreed.includes(x));
    if (missing.length) {
      return renderConsent(
        reply,
        requestId,
        p,
        user.persona.id,
        `필수 항목에 동의해 주세요. Agree to the required items: ${missing.join(', ')}`,
      );
    }
    state.pendingConsents.delete(requestId);
    // Agreeing as the account of the browser's Kakao session is no new login (auth_time stays the session's);
    // picking another account on the screen is one.
    const sessionAuthTime = pending.session?.userId === user.persona.id ? pending.session.authTime : undefined;
    return grant(reply, p, user, agreed, sessionAuthTime);
  });

  // ----------------------------------------------------------------------------------------------- token

  app.post(TOKEN_PATH, async (request, reply) => {
    // Every parameter travels in the form body (KAKAO_API.md 2); a JSON body counts as no parameters.
    const answer = await token(formParams(request));
    return sendJson(reply, answer.status, answer.body);
  });

  // ------------------------------------------------------------------------------------------- tokeninfo

  app.post('/oauth/tokeninfo', async (request, reply) => {
    const idToken = formParams(request).id_token;
    const verified = idToken ? keys.verify(idToken) : undefined;
    const claims = verified?.payload;
    const invalid = (why: string) => kauthError(reply, 400, 'invalid_token', why, 'KOE400');
    if (!claims) return invalid('invalid id_token');
    if (claims.iss !== config.issuer) return invalid('invalid issuer');
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds()) return invalid('id_token expired');
    // The payload in the order of the doc's example: iss, aud, sub, iat, exp, nonce, auth_time (KAKAO_API.md 3).
    const { iss, aud, sub, iat, exp, nonce, auth_time, ...rest } = claims;
    return sendJson(reply, 200, { iss, aud, sub, iat, exp, nonce, auth_time, ...rest });
  });

  // ---------------------------------------------------------------------------------------------- logout

  app.get('/oauth/logout', async (request, reply) => {
    const p = queryParams(request);
    if (!clientKind(config, p.client_id))
      return showError(reply, 'KOE101', `Invalid client_id: ${p.client_id ?? '(missing)'}`);
    if (!p.logout_redirect_uri || !config.logoutRedirectUris.includes(p.logout_redirect_uri)) {
      return showError(reply, 'KOE007', `Unregistered logout_redirect_uri: ${p.logout_redirect_uri ?? '(missing)'}`);
    }
    // Ends the Kakao Account browser session only; the app's tokens stay valid (KAKAO_API.md 5).
    void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return redirect(reply, p.logout_redirect_uri, { state: p.state });
  });
}
