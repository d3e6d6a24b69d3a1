import type { FastifyInstance, FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { KeyRing } from './keys';
import { buildServer, EmulatorConfig, Fault } from './server';
import {
  ACCESS_TOKEN_TTL,
  DEFAULT_SERVICE_TERMS,
  EmulatorState,
  loadPersonas,
  opaque,
  Persona,
  REFRESH_TOKEN_TTL,
  ServiceTermConfig,
  UserState,
} from './state';

export type { Fault, Persona, ServiceTermConfig };
export { DEFAULT_SERVICE_TERMS };

export interface KakaoEmulatorOptions {
  port?: number;
  host?: string;
  restApiKey: string;
  clientSecret?: string;
  adminKey: string;
  appId: string;
  redirectUris: string[];
  logoutRedirectUris?: string[];
  /** Other keys of the same app (JavaScript, native) accepted as client_id and as id_token aud. */
  extraAppKeys?: string[];
  serviceTerms?: ServiceTermConfig[];
  personasFile?: string;
  /** `iss` of id_tokens and SETs; the emulator's own base URL by default. */
  issuer?: string;
  rsaBits?: number;
}

export interface WebhookResult {
  status: number;
  body: string;
}

/** Event-type URIs of Kakao's account status change webhook (KAKAO_API.md 7.2). */
export const SET_EVENTS = {
  userUnlinked: 'https://schemas.openid.net/secevent/oauth/event-type/user-unlinked',
  userLinked: 'https://schemas.openid.net/secevent/oauth/event-type/user-linked',
  tokensRevoked: 'https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked',
  accountDisabled: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  accountEnabled: 'https://schemas.openid.net/secevent/risc/event-type/account-enabled',
  accountPurged: 'https://schemas.openid.net/secevent/risc/event-type/account-purged',
  sessionsRevoked: 'https://schemas.openid.net/secevent/risc/event-type/sessions-revoked',
} as const;

/**
 * A running emulator: the HTTP server plus typed access to its control surface for in-process tests
 * (the same operations are served over HTTP under /__emulator for other processes).
 */
export class KakaoEmulator {
  readonly faults: Fault[] = [];
  readonly calls = new Map<string, number>();
  private readonly hanging = new Set<FastifyReply>();

  constructor(
    private readonly server: FastifyInstance,
    readonly state: EmulatorState,
    readonly keys: KeyRing,
    readonly config: EmulatorConfig,
    public url: string,
  ) {}

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** The user the next authorize request picks when it does not name one (no consent screen shown). */
  setNextUser(userId: string | undefined): void {
    if (userId !== undefined && !this.state.users.has(userId)) throw new Error(`unknown user ${userId}`);
    this.state.nextUser = userId;
  }

  addPersona(persona: Persona): UserState {
    return this.state.add(persona);
  }

  user(userId: string): UserState | undefined {
    return this.state.users.get(userId);
  }

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  clearFaults(): void {
    this.faults.length = 0;
    for (const reply of this.hanging) reply.raw.destroy();
    this.hanging.clear();
  }

  rotateKeys(): Promise<string> {
    return this.keys.rotate();
  }

  callCount(method: string, path: string): number {
    return this.calls.get(`${method} ${path}`) ?? 0;
  }

  reset(): void {
    this.clearFaults();
    this.calls.clear();
    this.state.reset();
  }

  /** Sets how long a refresh token has left (to exercise Kakao's "reissue under 30 days" rule). */
  ageRefreshToken(refreshToken: string, remainingSeconds: number): void {
    const entry = this.state.refreshTokens.get(refreshToken);
    if (!entry) throw new Error('unknown refresh token');
    entry.expiresAt = Date.now() + remainingSeconds * 1000;
  }

  /** Expires an access token at once (tests of refresh paths). */
  expireAccessToken(accessToken: string): void {
    const entry = this.state.accessTokens.get(accessToken);
    if (entry) entry.expiresAt = Date.now() - 1000;
  }

  /** Tokens as a native Kakao SDK would hold them after a login (the user is linked if needed). */
  async issueTokensFor(
    userId: string,
    options: { clientId?: string; nonce?: string; openid?: boolean; scopes?: string[] } = {},
  ): Promise<{ access_token: string; refresh_token: string; id_token?: string; expires_in: number }> {
    const user = this.state.users.get(userId);
    if (!user) throw new Error(`unknown user ${userId}`);
    const clientId = options.clientId ?? this.config.restApiKey;
    const scopes = this.state.allowedScopes(
      user,
      options.scopes ?? ['profile_nickname', 'profile_image', 'account_email', 'name'],
    );
    this.state.link(user, scopes, [], 'KAUTH');
    const accessToken = opaque();
    const refreshToken = opaque();
    const authTime = Math.floor(Date.now() / 1000);
    const openid = options.openid ?? true;
    this.state.refreshTokens.set(refreshToken, {
      userId,
      clientId,
      scopes: [...user.scopes, ...(openid ? ['openid'] : [])],
      openid,
      authTime,
      expiresAt: Date.now() + REFRESH_TOKEN_TTL * 1000,
    });
    this.state.accessTokens.set(accessToken, {
      userId,
      clientId,
      scopes: [...user.scopes],
      expiresAt: Date.now() + ACCESS_TOKEN_TTL * 1000,
      refreshToken,
    });
    const iat = authTime;
    const idToken = openid
      ? await this.keys.sign({
          aud: clientId,
          sub: userId,
          auth_time: authTime,
          iss: this.config.issuer ?? this.url,
          ...(options.nonce ? { nonce: options.nonce } : {}),
          exp: iat + ACCESS_TOKEN_TTL,
          iat,
        })
      : undefined;
    return { access_token: accessToken, refresh_token: refreshToken, id_token: idToken, expires_in: ACCESS_TOKEN_TTL };
  }

  /**
   * Kakao's unlink webhook (KAKAO_API.md 7.1): GET with a query string or POST with a form body,
   * `Authorization: KakaoAK <admin key>`, `app_id`, `user_id`, `referrer_type`. Waits at most 3 s, as Kakao does.
   */
  async sendUnlinkWebhook(
    target: string,
    input: { userId: string; referrerType: string; method?: 'GET' | 'POST'; appId?: string; adminKey?: string },
  ): Promise<WebhookResult> {
    const form = new URLSearchParams({
      app_id: input.appId ?? this.config.appId,
      user_id: input.userId,
      referrer_type: input.referrerType,
    });
    const headers: Record<string, string> = { authorization: `KakaoAK ${input.adminKey ?? this.config.adminKey}` };
    const method = input.method ?? 'POST';
    const url = method === 'GET' ? `${target}${target.includes('?') ? '&' : '?'}${form.toString()}` : target;
    if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded;charset=utf-8';
    const res = await fetch(url, {
      method,
      headers,
      body: method === 'POST' ? form.toString() : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(3000),
    });
    return { status: res.status, body: await res.text() };
  }

  /** An account status change Security Event Token (KAKAO_API.md 7.2), signed with the emulator's keys. */
  async sendAccountStatusEvent(
    target: string,
    input: { userId: string; event: string; reason?: string; audience?: string; jti?: string; issuer?: string },
  ): Promise<WebhookResult & { jti: string }> {
    const jti = input.jti ?? randomUUID();
    const iss = input.issuer ?? this.config.issuer ?? this.url;
    const now = Math.floor(Date.now() / 1000);
    const set = await this.keys.sign(
      {
        iss,
        aud: input.audience ?? this.config.restApiKey,
        sub: input.userId,
        iat: now,
        jti,
        toe: now,
        txm: randomUUID(),
        events: {
          [input.event]: {
            subject: { subject_type: 'iss-sub', iss, sub: input.userId },
            ...(input.reason ? { reason: input.reason } : {}),
          },
        },
      },
      'secevent+jwt',
    );
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/secevent+jwt' },
      body: set,
      redirect: 'manual',
      signal: AbortSignal.timeout(3000),
    });
    return { status: res.status, body: await res.text(), jti };
  }

  async close(): Promise<void> {
    this.clearFaults();
    await this.server.close();
  }
}

export async function startKakaoEmulator(options: KakaoEmulatorOptions): Promise<KakaoEmulator> {
  const config: EmulatorConfig = {
    restApiKey: options.restApiKey,
    clientSecret: options.clientSecret,
    adminKey: options.adminKey,
    appId: options.appId,
    redirectUris: options.redirectUris,
    logoutRedirectUris: options.logoutRedirectUris ?? [],
    extraAppKeys: options.extraAppKeys ?? [],
    issuer: options.issuer,
  };
  const state = new EmulatorState(loadPersonas(options.personasFile), options.serviceTerms ?? DEFAULT_SERVICE_TERMS);
  const keys = await KeyRing.create(options.rsaBits ?? 2048);
  const ref: { emulator?: KakaoEmulator } = {};
  const pendingConsents = new Map();
  const faults: Fault[] = [];
  const calls = new Map<string, number>();
  const hanging = new Set<FastifyReply>();
  const server = await buildServer(config, state, keys, {
    faults,
    calls,
    pendingConsents,
    hanging,
    baseUrl: () => ref.emulator!.url,
  });
  const emulator = new KakaoEmulator(server, state, keys, config, '');
  ref.emulator = emulator;
  // One list shared by the server hooks and the typed API.
  Object.assign(emulator, { faults, calls, hanging });
  registerControlApi(server, emulator);
  const address = await server.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  emulator.url = address.replace('[::1]', 'localhost');
  return emulator;
}

/** The control API over HTTP, for processes that do not hold the emulator object (dev, benchmarks). */
function registerControlApi(server: FastifyInstance, e: KakaoEmulator): void {
  const body = (b: unknown) => (b ?? {}) as Record<string, unknown>;
  server.post('/__emulator/next-user', async (req) => {
    e.setNextUser(body(req.body).userId as string | undefined);
    return { ok: true };
  });
  server.get('/__emulator/personas', async () =>
    [...e.state.users.values()].map((u) => ({
      ...u.persona,
      linked: u.linked,
      scopes: [...u.scopes],
      terms: [...u.terms.keys()],
    })),
  );
  server.post('/__emulator/personas', async (req) => {
    e.addPersona(body(req.body) as unknown as Persona);
    return { ok: true };
  });
  server.post('/__emulator/faults', async (req) => {
    e.injectFault(body(req.body) as unknown as Fault);
    return { ok: true };
  });
  server.delete('/__emulator/faults', async () => {
    e.clearFaults();
    return { ok: true };
  });
  server.post('/__emulator/keys/rotate', async () => ({ kid: await e.rotateKeys() }));
  server.get('/__emulator/calls', async () => Object.fromEntries(e.calls));
  server.post('/__emulator/reset', async () => {
    e.reset();
    return { ok: true };
  });
  server.post('/__emulator/tokens', async (req) => {
    const b = body(req.body);
    return e.issueTokensFor(String(b.userId), {
      nonce: b.nonce as string | undefined,
      clientId: b.clientId as string | undefined,
    });
  });
  server.post('/__emulator/refresh-tokens/age', async (req) => {
    const b = body(req.body);
    e.ageRefreshToken(String(b.refreshToken), Number(b.remainingSeconds));
    return { ok: true };
  });
  server.post('/__emulator/webhooks/unlink', async (req) => {
    const b = body(req.body);
    return e.sendUnlinkWebhook(String(b.url), {
      userId: String(b.userId),
      referrerType: typeof b.referrerType === 'string' ? b.referrerType : 'UNLINK_FROM_APPS',
      method: b.method === 'GET' ? 'GET' : 'POST',
      appId: b.appId as string | undefined,
    });
  });
  server.post('/__emulator/webhooks/account-status', async (req) => {
    const b = body(req.body);
    return e.sendAccountStatusEvent(String(b.url), {
      userId: String(b.userId),
      event: typeof b.event === 'string' ? b.event : SET_EVENTS.userUnlinked,
      reason: b.reason as string | undefined,
    });
  });
}
