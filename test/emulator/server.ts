import formbody from '@fastify/formbody';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { importJWK, jwtVerify } from 'jose';
import { createHash, randomBytes } from 'node:crypto';
import { consentPage, errorPage } from './consent-page';
import { KeyRing } from './keys';
import {
  ACCESS_TOKEN_TTL,
  AuthCode,
  CODE_TTL_MS,
  EmulatorState,
  opaque,
  Persona,
  REFRESH_TOKEN_TTL,
  SCOPES,
  UserState,
} from './state';

export interface EmulatorConfig {
  restApiKey: string;
  clientSecret?: string;
  adminKey: string;
  appId: string;
  redirectUris: string[];
  logoutRedirectUris: string[];
  extraAppKeys: string[];
  issuer?: string;
}

export interface Fault {
  /** Path the fault applies to, e.g. `/oauth/token` or `/v2/user/me`. */
  path: string;
  method?: string;
  status?: number;
  /** Body sent with `status` (Kakao's `{msg, code}` or `{error, error_code}`). */
  body?: unknown;
  delayMs?: number;
  /** Never answer (until the emulator closes). */
  hang?: boolean;
  /** Answer 200 with a body that is not JSON. */
  invalidJson?: boolean;
  /** Token responses without an id_token. */
  omitIdToken?: boolean;
  /** How many requests it applies to (default: until cleared). */
  times?: number;
}

type Params = Record<string, string | undefined>;

const SECONDS = () => Math.floor(Date.now() / 1000);
const THIRTY_DAYS = 30 * 24 * 3600;

/**
 * A JSON body whose `id` is written as a raw JSON number, as Kakao does even above 2^53 (KAKAO_API.md 4):
 * JSON.stringify of a JS number would round it.
 */
function withNumericId(id: string, rest: Record<string, unknown>): string {
  const tail = JSON.stringify(rest).slice(1);
  return `{"id":${id}${tail === '}' ? '}' : `,${tail}`}`;
}

function sha256url(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

/** The emulator's HTTP surface: kauth and kapi paths on one port, plus the control API under /__emulator. */
export async function buildServer(
  config: EmulatorConfig,
  state: EmulatorState,
  keys: KeyRing,
  control: {
    faults: Fault[];
    calls: Map<string, number>;
    pendingConsents: Map<string, Params>;
    hanging: Set<FastifyReply>;
    baseUrl: () => string;
  },
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  await app.register(formbody);
  const issuer = () => config.issuer ?? control.baseUrl();
  const clientIds = () => [config.restApiKey, ...config.extraAppKeys];

  // Counts and faults, before any route runs.
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    if (path.startsWith('/__emulator')) return;
    const key = `${request.method} ${path}`;
    control.calls.set(key, (control.calls.get(key) ?? 0) + 1);
    const fault = control.faults.find((f) => f.path === path && (!f.method || f.method === request.method));
    if (!fault || fault.omitIdToken) return;
    if (fault.times !== undefined && --fault.times <= 0) control.faults.splice(control.faults.indexOf(fault), 1);
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.hang) {
      control.hanging.add(reply);
      return new Promise<void>(() => undefined);
    }
    if (fault.invalidJson) return reply.code(200).type('application/json').send('{"this is": not json');
    if (fault.status)
      return reply
        .code(fault.status)
        .type('application/json;charset=UTF-8')
        .send(JSON.stringify(fault.body ?? {}));
  });

  const params = (request: FastifyRequest): Params => ({
    ...(request.query as Params),
    ...(typeof request.body === 'object' && request.body ? (request.body as Params) : {}),
  });

  const kauthError = (reply: FastifyReply, status: number, error: string, description: string, code: string) =>
    reply
      .code(status)
      .type('application/json;charset=UTF-8')
      .send({ error, error_description: description, error_code: code });

  /** kapi errors (KAKAO_API.md 8): `{msg, code}`, and a Bearer challenge on -401. */
  const kapiError = (reply: FastifyReply, status: number, code: number, msg: string) => {
    if (code === -401) void reply.header('www-authenticate', 'Bearer error=invalid_token');
    return reply.code(status).type('application/json;charset=UTF-8').send({ msg, code });
  };

  const json = (reply: FastifyReply, body: string | object) =>
    reply
      .code(200)
      .type('application/json;charset=UTF-8')
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  // ---------------------------------------------------------------------------------------------- kauth

  app.get('/.well-known/openid-configuration', async (_req, reply) => {
    const base = control.baseUrl();
    return json(reply, {
      issuer: issuer(),
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      userinfo_endpoint: `${base}/v1/oidc/userinfo`,
      jwks_uri: `${base}/.well-known/jwks.json`,
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
  });

  app.get('/.well-known/jwks.json', async (_req, reply) => json(reply, keys.jwks()));

  const redirectWith = (reply: FastifyReply, redirectUri: string, query: Record<string, string | undefined>) => {
    const url = new URL(redirectUri);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    return reply.code(302).header('location', url.toString()).header('content-length', '0').send();
  };

  /** Issues the code for a decided consent and redirects back (KAKAO_API.md 1, success response). */
  const grant = (reply: FastifyReply, p: Params, user: UserState, agree: string[] | 'all') => {
    const requested = splitList(p.scope);
    const defaultScopes = requested.length ? requested : SCOPES.map((s) => s.id);
    const wanted = agree === 'all' ? defaultScopes : defaultScopes.filter((s) => s === 'openid' || agree.includes(s));
    const scopes = state.allowedScopes(user, wanted);
    const askedTerms = p.service_terms
      ? splitList(p.service_terms)
      : user.linked
        ? []
        : state.serviceTerms.map((t) => t.tag);
    const terms = askedTerms.filter((t) => agree === 'all' || agree.includes(t));
    state.link(
      user,
      scopes.filter((s) => s !== 'openid'),
      terms,
      'KAUTH',
    );
    const code = opaque(64);
    const entry: AuthCode = {
      userId: user.persona.id,
      clientId: p.client_id!,
      redirectUri: p.redirect_uri!,
      scopes: [...new Set([...user.scopes, ...(requested.includes('openid') ? ['openid'] : [])])],
      nonce: p.nonce,
      codeChallenge: p.code_challenge,
      expiresAt: Date.now() + CODE_TTL_MS,
      authTime: SECONDS(),
    };
    state.codes.set(code, entry);
    return redirectWith(reply, p.redirect_uri!, { code, state: p.state });
  };

  const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
    const p = params(request);
    // The consent form posts back with the id of the pending request.
    if (p.request_id) {
      const pending = control.pendingConsents.get(p.request_id);
      if (!pending) return reply.code(400).type('text/html').send(errorPage('KOE001', 'The consent request expired'));
      control.pendingConsents.delete(p.request_id);
      const form = request.body as Record<string, string | string[]>;
      if (form.decision !== 'agree') {
        return redirectWith(reply, pending.redirect_uri!, {
          error: 'access_denied',
          error_description: 'User denied access',
          state: pending.state,
        });
      }
      const user = state.users.get(String(form.emulator_user));
      if (!user) return reply.code(400).type('text/html').send(errorPage('KOE001', 'Unknown account'));
      const agree = ([] as string[]).concat(form.agree ?? []);
      return grant(reply, pending, user, agree);
    }
    // KOE errors are shown on Kakao's own page; the redirect URI is not called (KAKAO_API.md 1).
    if (!p.client_id || !clientIds().includes(p.client_id)) {
      return reply.code(400).type('text/html').send(errorPage('KOE101', 'Wrong app key'));
    }
    if (!p.redirect_uri || !config.redirectUris.includes(p.redirect_uri)) {
      return reply.code(400).type('text/html').send(errorPage('KOE006', 'Unregistered redirect URI'));
    }
    if (p.response_type !== 'code') {
      const code = p.response_type === 'token' ? 'KOE202' : 'KOE201';
      return reply
        .code(400)
        .type('text/html')
        .send(errorPage(code, `Unsupported response type: ${p.response_type}`));
    }
    if (p.code_challenge && p.code_challenge_method !== 'S256') {
      return reply.code(400).type('text/html').send(errorPage('KOE001', 'Only S256 is supported'));
    }
    const terms = splitList(p.service_terms);
    const unknownTerm = terms.find((t) => !state.serviceTerms.some((x) => x.tag === t));
    if (unknownTerm)
      return reply
        .code(400)
        .type('text/html')
        .send(errorPage('KOE001', `Unknown service term ${unknownTerm}`));
    if (terms.length && !terms.some((t) => state.serviceTerms.find((x) => x.tag === t)?.required)) {
      return reply
        .code(400)
        .type('text/html')
        .send(errorPage('KOE001', 'service_terms needs at least one required term'));
    }
    if (p.emulator_cancel) {
      return redirectWith(reply, p.redirect_uri, {
        error: 'access_denied',
        error_description: 'User denied access',
        state: p.state,
      });
    }
    const chosen = p.emulator_user ?? state.nextUser;
    const user = chosen ? state.users.get(chosen) : undefined;
    const prompts = splitList(p.prompt);
    if (prompts.includes('none')) {
      // Auto-login: only a user already linked gets a code, without any screen.
      if (!user || !user.linked) {
        return redirectWith(reply, p.redirect_uri, {
          error: 'consent_required',
          error_description: 'user consent required.',
          state: p.state,
        });
      }
      return grant(reply, p, user, 'all');
    }
    if (user && (p.emulator_user || p.emulator_agree)) {
      return grant(
        reply,
        p,
        user,
        p.emulator_agree && p.emulator_agree !== 'all' ? splitList(p.emulator_agree) : 'all',
      );
    }
    if (user && state.nextUser && !prompts.includes('login') && !prompts.includes('select_account')) {
      return grant(reply, p, user, 'all');
    }
    const requestId = randomBytes(12).toString('hex');
    control.pendingConsents.set(requestId, p);
    const shownTerms = terms.length
      ? state.serviceTerms.filter((t) => terms.includes(t.tag))
      : user?.linked
        ? []
        : state.serviceTerms;
    return reply
      .code(200)
      .type('text/html; charset=utf-8')
      .send(
        consentPage({
          requestId,
          clientName: 'Kakao Auth Service',
          users: user ? [user] : [...state.users.values()],
          scopes: splitList(p.scope).length ? splitList(p.scope) : SCOPES.map((s) => s.id),
          terms: shownTerms,
        }),
      );
  };
  app.get('/oauth/authorize', authorize);
  app.post('/oauth/authorize', authorize);

  const idTokenFor = async (user: UserState, clientId: string, authTime: number, nonce?: string) => {
    const iat = SECONDS();
    const p = user.persona;
    return keys.sign({
      aud: clientId,
      sub: p.id,
      auth_time: authTime,
      iss: issuer(),
      ...(user.scopes.has('profile_nickname') && p.nickname ? { nickname: p.nickname } : {}),
      ...(user.scopes.has('profile_image') ? { picture: thumbnail(p) } : {}),
      // Only a valid and verified email is put in the id_token (KAKAO_API.md 3).
      ...(user.scopes.has('account_email') && p.email && p.isEmailValid && p.isEmailVerified ? { email: p.email } : {}),
      ...(nonce ? { nonce } : {}),
      exp: iat + ACCESS_TOKEN_TTL,
      iat,
    });
  };

  const omitIdToken = () => {
    const fault = control.faults.find((f) => f.path === '/oauth/token' && f.omitIdToken);
    if (fault && fault.times !== undefined && --fault.times <= 0)
      control.faults.splice(control.faults.indexOf(fault), 1);
    return Boolean(fault);
  };

  app.post('/oauth/token', async (request, reply) => {
    const p = params(request);
    if (!p.client_id || !clientIds().includes(p.client_id))
      return kauthError(reply, 401, 'invalid_client', 'Wrong client id', 'KOE101');
    if (config.clientSecret && p.client_secret !== config.clientSecret) {
      return kauthError(reply, 401, 'invalid_client', 'Bad client credentials', 'KOE010');
    }
    if (p.grant_type === 'authorization_code') {
      const entry = p.code ? state.codes.get(p.code) : undefined;
      // Single use: a code is forgotten the moment it is presented (KOE320 on any second use).
      if (p.code) state.codes.delete(p.code);
      if (!entry || entry.expiresAt < Date.now() || entry.clientId !== p.client_id) {
        return kauthError(
          reply,
          400,
          'invalid_grant',
          `authorization code not found for code=${p.code ?? ''}`,
          'KOE320',
        );
      }
      if (entry.redirectUri !== p.redirect_uri)
        return kauthError(reply, 400, 'invalid_grant', 'Redirect URI mismatch.', 'KOE303');
      if (entry.codeChallenge && (!p.code_verifier || sha256url(p.code_verifier) !== entry.codeChallenge)) {
        // Kakao's PKCE mismatch code is not documented (KAKAO_API.md 10); invalid_grant is what RFC 7636 says.
        return kauthError(reply, 400, 'invalid_grant', 'code_verifier mismatch', 'KOE320');
      }
      const user = state.users.get(entry.userId)!;
      const openid = entry.scopes.includes('openid');
      return json(reply, await issueTokens(user, entry.clientId, entry.scopes, openid, entry.authTime, entry.nonce));
    }
    if (p.grant_type === 'refresh_token') {
      const entry = p.refresh_token ? state.refreshTokens.get(p.refresh_token) : undefined;
      if (!entry || entry.expiresAt < Date.now() || entry.clientId !== p.client_id) {
        return kauthError(reply, 400, 'invalid_grant', 'expired_or_invalid_refresh_token', 'KOE322');
      }
      const user = state.users.get(entry.userId)!;
      const accessToken = opaque();
      const remaining = Math.floor((entry.expiresAt - Date.now()) / 1000);
      // A new refresh token only when less than a month is left; the old one then expires (KAKAO_API.md 2).
      let refreshToken = p.refresh_token!;
      const body: Record<string, unknown> = {
        token_type: 'bearer',
        access_token: accessToken,
        expires_in: ACCESS_TOKEN_TTL,
      };
      if (remaining < THIRTY_DAYS) {
        state.refreshTokens.delete(refreshToken);
        refreshToken = opaque();
        state.refreshTokens.set(refreshToken, { ...entry, expiresAt: Date.now() + REFRESH_TOKEN_TTL * 1000 });
        body.refresh_token = refreshToken;
        body.refresh_token_expires_in = REFRESH_TOKEN_TTL;
      }
      state.accessTokens.set(accessToken, {
        userId: entry.userId,
        clientId: entry.clientId,
        scopes: entry.scopes,
        expiresAt: Date.now() + ACCESS_TOKEN_TTL * 1000,
        refreshToken,
      });
      if (entry.openid && !omitIdToken()) body.id_token = await idTokenFor(user, entry.clientId, entry.authTime);
      body.scope = entry.scopes.join(' ');
      return json(reply, body);
    }
    return kauthError(reply, 400, 'unsupported_grant_type', `unsupported grant_type: ${p.grant_type ?? ''}`, 'KOE001');
  });

  const issueTokens = async (
    user: UserState,
    clientId: string,
    scopes: string[],
    openid: boolean,
    authTime: number,
    nonce?: string,
  ) => {
    const accessToken = opaque();
    const refreshToken = opaque();
    state.refreshTokens.set(refreshToken, {
      userId: user.persona.id,
      clientId,
      scopes,
      openid,
      authTime,
      expiresAt: Date.now() + REFRESH_TOKEN_TTL * 1000,
    });
    state.accessTokens.set(accessToken, {
      userId: user.persona.id,
      clientId,
      scopes,
      expiresAt: Date.now() + ACCESS_TOKEN_TTL * 1000,
      refreshToken,
    });
    return {
      token_type: 'bearer',
      access_token: accessToken,
      ...(openid && !omitIdToken() ? { id_token: await idTokenFor(user, clientId, authTime, nonce) } : {}),
      expires_in: ACCESS_TOKEN_TTL,
      refresh_token: refreshToken,
      refresh_token_expires_in: REFRESH_TOKEN_TTL,
      scope: scopes.join(' '),
    };
  };

  app.post('/oauth/tokeninfo', async (request, reply) => {
    const token = params(request).id_token;
    try {
      const [, payload] = (token ?? '').split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const header = JSON.parse(Buffer.from(token!.split('.')[0], 'base64url').toString()) as { kid?: string };
      const jwk = keys.jwks().keys.find((k) => k.kid === header.kid);
      if (!jwk) throw new Error('unknown kid');
      await jwtVerify(token!, await importJWK(jwk, 'RS256'), { issuer: issuer() });
      return json(reply, claims);
    } catch {
      return kauthError(reply, 400, 'invalid_token', 'invalid id_token', 'KOE400');
    }
  });

  app.get('/oauth/logout', async (request, reply) => {
    const p = params(request);
    if (!p.client_id || !clientIds().includes(p.client_id))
      return reply.code(400).type('text/html').send(errorPage('KOE101', 'Wrong app key'));
    if (!p.logout_redirect_uri || !config.logoutRedirectUris.includes(p.logout_redirect_uri)) {
      return reply.code(400).type('text/html').send(errorPage('KOE007', 'Unregistered logout redirect URI'));
    }
    return redirectWith(reply, p.logout_redirect_uri, { state: p.state });
  });

  // ---------------------------------------------------------------------------------------------- kapi

  /** The user behind a request: a live Bearer token, or the admin key with target_id_type/target_id. */
  const caller = (request: FastifyRequest, reply: FastifyReply, options: { adminAllowed?: boolean } = {}) => {
    const auth = request.headers.authorization ?? '';
    const p = params(request);
    let user: UserState | undefined;
    let token: string | undefined;
    if (auth.startsWith('Bearer ')) {
      token = auth.slice(7);
      const entry = state.accessTokens.get(token);
      if (!entry || entry.expiresAt < Date.now()) {
        kapiError(reply, 401, -401, 'this access token does not exist');
        return undefined;
      }
      user = state.users.get(entry.userId);
    } else if (auth.startsWith('KakaoAK ') && options.adminAllowed !== false) {
      if (auth.slice(8) !== config.adminKey) {
        kapiError(reply, 401, -401, 'wrong appKey(admin key) type');
        return undefined;
      }
      if (p.target_id_type !== 'user_id' || !p.target_id || !/^\d+$/.test(p.target_id)) {
        kapiError(reply, 400, -2, 'target_id_type and target_id are required');
        return undefined;
      }
      user = state.users.get(p.target_id);
      if (!user) {
        kapiError(reply, 400, -101, 'not registered user');
        return undefined;
      }
    } else {
      kapiError(reply, 401, -401, 'no authorization header');
      return undefined;
    }
    if (!user) {
      kapiError(reply, 401, -401, 'this access token does not exist');
      return undefined;
    }
    if (user.persona.dormant) {
      kapiError(reply, 400, -103, 'dormant or not exist account');
      return undefined;
    }
    return { user, token, p };
  };

  const userMe = (request: FastifyRequest, reply: FastifyReply) => {
    const c = caller(request, reply);
    if (!c) return reply;
    const { user, p } = c;
    if (!user.linked) return kapiError(reply, 400, -101, 'not registered user');
    let keysFilter: string[] | undefined;
    if (p.property_keys) {
      try {
        keysFilter = JSON.parse(p.property_keys) as string[];
      } catch {
        return kapiError(reply, 400, -2, 'invalid property_keys');
      }
    }
    const account = kakaoAccount(user, keysFilter);
    return json(
      reply,
      withNumericId(user.persona.id, {
        connected_at: user.connectedAt?.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...(user.terms.size ? { synched_at: user.connectedAt?.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
        properties: {
          ...(user.scopes.has('profile_nickname') && user.persona.nickname ? { nickname: user.persona.nickname } : {}),
        },
        kakao_account: account,
      }),
    );
  };
  app.get('/v2/user/me', userMe);
  app.post('/v2/user/me', userMe);

  app.get('/v1/user/access_token_info', async (request, reply) => {
    const c = caller(request, reply, { adminAllowed: false });
    if (!c) return reply;
    const entry = state.accessTokens.get(c.token!)!;
    return json(
      reply,
      withNumericId(c.user.persona.id, {
        expires_in: Math.max(0, Math.floor((entry.expiresAt - Date.now()) / 1000)),
        app_id: Number(config.appId),
      }),
    );
  });

  app.post('/v1/user/logout', async (request, reply) => {
    const c = caller(request, reply);
    if (!c) return reply;
    state.revokeTokens(c.user.persona.id, c.token);
    return json(reply, withNumericId(c.user.persona.id, {}));
  });

  app.post('/v1/user/unlink', async (request, reply) => {
    const c = caller(request, reply);
    if (!c) return reply;
    if (!c.user.linked) return kapiError(reply, 400, -101, 'not registered user');
    state.unlink(c.user);
    return json(reply, withNumericId(c.user.persona.id, {}));
  });

  const scopesView = (user: UserState, only?: string[]) =>
    SCOPES.filter((s) => !only || only.includes(s.id)).map((s) => ({
      id: s.id,
      display_name: s.title,
      type: 'PRIVACY',
      using: true,
      agreed: user.scopes.has(s.id),
      ...(user.scopes.has(s.id) ? { revocable: true } : {}),
    }));

  app.get('/v2/user/scopes', async (request, reply) => {
    const c = caller(request, reply);
    if (!c) return reply;
    let only: string[] | undefined;
    try {
      only = c.p.scopes ? (JSON.parse(c.p.scopes) as string[]) : undefined;
    } catch {
      return kapiError(reply, 400, -2, 'invalid scopes');
    }
    return json(reply, withNumericId(c.user.persona.id, { scopes: scopesView(c.user, only) }));
  });

  app.post('/v2/user/revoke/scopes', async (request, reply) => {
    const c = caller(request, reply);
    if (!c) return reply;
    let ids: string[];
    try {
      ids = JSON.parse(c.p.scopes ?? '[]') as string[];
    } catch {
      return kapiError(reply, 400, -2, 'invalid scopes');
    }
    const unknown = ids.find((id) => !SCOPES.some((s) => s.id === id));
    if (unknown || !ids.length) {
      return kapiError(
        reply,
        400,
        -2,
        `There is no scopes to revoke. check out if given scope id([${unknown ?? ''}]) is correct again.`,
      );
    }
    for (const id of ids) c.user.scopes.delete(id);
    return json(reply, withNumericId(c.user.persona.id, { scopes: scopesView(c.user, ids) }));
  });

  const termView = (user: UserState, tag: string) => {
    const config = state.serviceTerms.find((t) => t.tag === tag)!;
    const agreed = user.terms.get(tag);
    return {
      tag,
      required: config.required,
      agreed: Boolean(agreed),
      revocable: Boolean(agreed) && Boolean(config.revocable),
      ...(agreed
        ? { agreed_at: agreed.agreedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), agreed_by: agreed.agreedBy }
        : {}),
    };
  };

  const unknownTags = (tags: string[]) => tags.filter((t) => !state.serviceTerms.some((x) => x.tag === t));

  app.get('/v2/user/service_terms', async (request, reply) => {
    const c = caller(request, reply);
    if (!c) return reply;
    const tags = splitList(c.p.tags);
    const unknown = unknownTags(tags);
    if (unknown.length) {
      return kapiError(
        reply,
        400,
        -2,
        `There is no tags to get service terms. check out to configured this tags([${unknown.join(', ')}]) in app(emulator).`,
      );
    }
    const all = c.p.result === 'app_service_terms';
    const selected = state.serviceTerms
      .filter((t) => !tags.length || tags.includes(t.tag))
      .filter((t) => all || c.user.terms.has(t.tag));
    return json(
      reply,
      withNumericId(c.user.persona.id, { service_terms: selected.map((t) => termView(c.user, t.tag)) }),
    );
  });

  app.post('/v2/user/revoke/service_terms', async (request, reply) => {
    const c = caller(request, reply);
    if (!c) return reply;
    const tags = splitList(c.p.tags);
    const unknown = unknownTags(tags);
    if (unknown.length || !tags.length) {
      return kapiError(
        reply,
        400,
        -2,
        `There is no tags to revoke. check out to configured this tags([${unknown.join(', ')}]) in app(emulator).`,
      );
    }
    const notRevocable = tags.find(
      (t) => !state.serviceTerms.find((x) => x.tag === t)!.revocable && c.user.terms.has(t),
    );
    if (notRevocable) return kapiError(reply, 403, -3, `[${notRevocable}] is not revocable.`);
    const revoked = tags.filter((t) => c.user.terms.delete(t)).map((tag) => ({ tag, agreed: false }));
    return json(reply, withNumericId(c.user.persona.id, { revoked_service_terms: revoked }));
  });

  app.post('/v2/user/upgrade/service_terms', async (request, reply) => {
    const c = caller(request, reply);
    if (!c) return reply;
    const tags = splitList(c.p.tags);
    const fresh = tags.filter((t) => !unknownTags([t]).length && !c.user.terms.has(t));
    state.link(c.user, [], fresh, 'KAPI');
    return json(
      reply,
      withNumericId(c.user.persona.id, {
        agreed_service_terms: fresh.map((tag) => {
          const v = termView(c.user, tag);
          return { tag, agreed: v.agreed, agreed_at: v.agreed_at, agreed_by: v.agreed_by };
        }),
      }),
    );
  });

  app.get('/v1/oidc/userinfo', async (request, reply) => {
    const c = caller(request, reply, { adminAllowed: false });
    if (!c) return reply;
    const { user } = c;
    const p = user.persona;
    const has = (s: string) => user.scopes.has(s);
    const birthdate =
      has('birthyear') && has('birthday') && p.birthyear && p.birthday
        ? `${p.birthyear}-${p.birthday.slice(0, 2)}-${p.birthday.slice(2)}`
        : has('birthday') && p.birthday
          ? `0000-${p.birthday.slice(0, 2)}-${p.birthday.slice(2)}`
          : has('birthyear') && p.birthyear
            ? p.birthyear
            : undefined;
    return json(reply, {
      sub: p.id,
      ...(has('name') && p.name ? { name: p.name } : {}),
      ...(has('profile_nickname') && p.nickname ? { nickname: p.nickname } : {}),
      ...(has('profile_image') ? { picture: thumbnail(p) } : {}),
      ...(has('account_email') && p.email
        ? { email: p.email, email_verified: Boolean(p.isEmailValid && p.isEmailVerified) }
        : {}),
      ...(has('gender') && p.gender ? { gender: p.gender } : {}),
      ...(birthdate ? { birthdate } : {}),
      ...(has('phone_number') && p.phoneNumber ? { phone_number: p.phoneNumber, phone_number_verified: true } : {}),
    });
  });

  return app;
}

function thumbnail(p: Persona): string {
  return p.thumbnailImageUrl ?? `https://k.kakaocdn.net/dn/emulator/${p.id}/img_110x110.jpg`;
}

/**
 * `kakao_account` with Kakao's `*_needs_agreement` semantics (KAKAO_API.md 4): `true` when the item could
 * be asked for; `false` with a value when agreed; `false` without a value when the account lacks the data.
 */
function kakaoAccount(user: UserState, only?: string[]): Record<string, unknown> {
  const p = user.persona;
  const want = (key: string) => !only || only.includes(`kakao_account.${key}`);
  const a: Record<string, unknown> = {};
  const item = (scope: string, hasData: boolean, needsKey: string, values: () => Record<string, unknown>) => {
    const agreed = user.scopes.has(scope);
    a[needsKey] = !agreed && hasData;
    if (agreed && hasData) Object.assign(a, values());
  };
  if (want('profile')) {
    const nick = user.scopes.has('profile_nickname') && p.nickname !== undefined;
    const img = user.scopes.has('profile_image');
    a.profile_nickname_needs_agreement = !user.scopes.has('profile_nickname') && p.nickname !== undefined;
    a.profile_image_needs_agreement = !img;
    if (nick || img) {
      a.profile = {
        ...(nick ? { nickname: p.nickname, is_default_nickname: false } : {}),
        ...(img
          ? {
              thumbnail_image_url: thumbnail(p),
              profile_image_url: p.profileImageUrl ?? `https://k.kakaocdn.net/dn/emulator/${p.id}/img_640x640.jpg`,
              is_default_image: false,
            }
          : {}),
      };
    }
  }
  if (want('name')) item('name', p.name !== undefined, 'name_needs_agreement', () => ({ name: p.name }));
  if (want('email')) {
    item('account_email', p.email !== undefined, 'email_needs_agreement', () => ({
      is_email_valid: Boolean(p.isEmailValid),
      is_email_verified: Boolean(p.isEmailVerified),
      email: p.email,
    }));
  }
  if (want('age_range'))
    item('age_range', p.ageRange !== undefined, 'age_range_needs_agreement', () => ({ age_range: p.ageRange }));
  if (!only)
    item('birthyear', p.birthyear !== undefined, 'birthyear_needs_agreement', () => ({ birthyear: p.birthyear }));
  if (want('birthday')) {
    item('birthday', p.birthday !== undefined, 'birthday_needs_agreement', () => ({
      birthday: p.birthday,
      birthday_type: p.birthdayType ?? 'SOLAR',
      is_leap_month: Boolean(p.isLeapMonth),
    }));
  }
  if (want('gender')) item('gender', p.gender !== undefined, 'gender_needs_agreement', () => ({ gender: p.gender }));
  if (!only)
    item('phone_number', p.phoneNumber !== undefined, 'phone_number_needs_agreement', () => ({
      phone_number: p.phoneNumber,
    }));
  return a;
}
