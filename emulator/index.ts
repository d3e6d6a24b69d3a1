/**
 * The Kakao emulator: Kakao's kauth and kapi servers as KAKAO_API.md describes them, on one port, plus a
 * control API under /__emulator for tests, development and benchmarks. See README.md.
 */
import type { FastifyInstance } from 'fastify';
import { resolveConfig, ResolvedConfig } from './config';
import type { EmulatorContext } from './context';
import { registerControlApi } from './control';
import { FaultRegistry } from './faults';
import { Jwk, KeyRing } from './keys';
import { checkPersonas, loadPersonas, validatePersona } from './personas';
import { buildServer } from './server';
import { AgreedBy, EmulatorState, UnknownUserError, UserState } from './state';
import { TokenService } from './tokens';
import type {
  AccountStatusEventInput,
  AccountStatusResult,
  Fault,
  FaultSpec,
  IssueTokensOptions,
  KakaoEmulatorOptions,
  Persona,
  RecordedRequest,
  TokenResponse,
  UnlinkWebhookInput,
  UserSnapshot,
  WebhookResult,
} from './types';
import { nowSeconds } from './wire';
import { sendAccountStatusEvent, sendUnlinkWebhook } from './webhooks';

export * from './types';
export { DEFAULT_SERVICE_TERMS, DEFAULT_USER_PROPERTY_KEYS, TTL, emulatorOptionsFromEnv } from './config';
export { CONSENT_ITEMS, loadPersonas } from './personas';
export { SET_EVENT_TYPES, UNLINK_REFERRER_TYPES } from './webhooks';
export type { SetEventName } from './webhooks';
export type { Jwk } from './keys';
export type { AccessTokenEntry, AuthCode, EmulatorState, RefreshTokenEntry, TermAgreement, UserState } from './state';
export type { ResolvedConfig } from './config';
export { UnknownUserError } from './state';

const SWEEP_INTERVAL_MS = 60_000;

/**
 * A running emulator. Its methods are the control API for in-process tests; other processes use the same
 * operations over HTTP under `/__emulator` (control.ts).
 */
export class KakaoEmulator {
  /** Base URL serving both the kauth and the kapi paths. */
  readonly url: string;
  readonly port: number;
  /** `iss` of id_tokens and Security Event Tokens. */
  readonly issuer: string;
  private closed = false;

  /** @internal use startKakaoEmulator */
  constructor(
    private readonly app: FastifyInstance,
    private readonly ctx: EmulatorContext,
    private readonly sweeper: NodeJS.Timeout,
  ) {
    this.url = ctx.config.baseUrl;
    this.port = ctx.config.port;
    this.issuer = ctx.config.issuer;
  }

  /** The live state (users, codes, tokens): for assertions; prefer the methods to change it. */
  get state(): EmulatorState {
    return this.ctx.state;
  }

  get config(): Readonly<ResolvedConfig> {
    return this.ctx.config;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.ctx.faults.clear();
    await this.app.close();
  }

  // ------------------------------------------------------------------------------------------ users

  /**
   * The account authorize uses when a request names none (`emulator_user`): it then decides at once with the
   * persona's habits, like a signed-in person who always agrees. Stays until changed; null/undefined clears it.
   */
  setNextUser(userId: string | null | undefined): void {
    if (userId != null) this.mustGet(userId);
    this.ctx.state.nextUser = userId ?? undefined;
  }

  /** Adds (or replaces) a persona at runtime. */
  addPersona(persona: Persona): UserSnapshot {
    const user = this.ctx.state.addPersona(structuredClone(validatePersona(persona)));
    return this.ctx.state.snapshot(user);
  }

  personas(): UserSnapshot[] {
    return [...this.ctx.state.users.values()].map((u) => this.ctx.state.snapshot(u));
  }

  /** The live user; changing `persona` fields changes the next answers (e.g. a new nickname). */
  user(userId: string): UserState | undefined {
    return this.ctx.state.users.get(userId);
  }

  snapshot(userId: string): UserSnapshot {
    return this.ctx.state.snapshot(this.mustGet(userId));
  }

  isLinked(userId: string): boolean {
    return this.mustGet(userId).linked;
  }

  consentedScopes(userId: string): string[] {
    return [...this.mustGet(userId).scopes];
  }

  agreedTerms(userId: string): UserSnapshot['terms'] {
    return this.snapshot(userId).terms;
  }

  /**
   * Registers one more service term in the app, as a console change would (e.g. a new required term):
   * users linked before have not agreed to it.
   */
  addServiceTerm(term: { tag: string; title?: string; required: boolean; revocable?: boolean }): void {
    const terms = this.ctx.config.serviceTerms;
    if (terms.some((t) => t.tag === term.tag)) throw new Error(`service term ${term.tag} already exists`);
    this.addedTerms ??= terms.length;
    terms.push({ title: term.tag, ...term, revocable: term.revocable ?? !term.required });
  }

  /** How many terms the app had before `addServiceTerm` (restored by `reset`). */
  private addedTerms?: number;

  /**
   * Links a user as a finished consent screen would (or adds consents/terms to a linked one). A new link is
   * REGISTERED or PREREGISTERED by the auto-link setting; `signedUp` forces either.
   */
  linkUser(
    userId: string,
    options: { scopes?: string[]; terms?: string[]; agreedBy?: AgreedBy; signedUp?: boolean } = {},
  ): UserSnapshot {
    const { state } = this.ctx;
    const user = this.mustGet(userId);
    state.link(
      user,
      options.scopes ?? state.personaDefaultScopes(user, state.configuredItems()),
      options.terms ?? [],
      options.agreedBy ?? 'KAUTH',
    );
    if (options.signedUp !== undefined) user.signedUp = options.signedUp;
    return state.snapshot(user);
  }

  /**
   * Unlinks a user on Kakao's side (e.g. "Manage Connected Services"): consents, terms and tokens are gone. With
   * `webhook`, the unlink webhook is sent afterwards, as Kakao does (KAKAO_API.md 7.1).
   */
  async unlinkUser(
    userId: string,
    options: { webhook?: { url: string } & Omit<UnlinkWebhookInput, 'userId'> } = {},
  ): Promise<WebhookResult | undefined> {
    this.ctx.state.unlink(this.mustGet(userId));
    if (!options.webhook) return undefined;
    const { url, ...input } = options.webhook;
    return this.sendUnlinkWebhook(url, { ...input, userId });
  }

  // --------------------------------------------------------------------------------------- settings

  /**
   * Switches the app's auto-link setting, as a console change would: users linked from now on start
   * PREREGISTERED while it is OFF; users already linked keep their state, and `has_signed_up` shows only while
   * OFF. `reset()` restores the configured `autoLink`.
   */
  setAutoLink(on: boolean): void {
    if (typeof on !== 'boolean') throw new Error('autoLink is true or false');
    this.ctx.state.autoLink = on;
  }

  /**
   * Switches the per-user token rate limit (KOE237, KAKAO_API.md 2) on or off; counting starts afresh either
   * way. `reset()` restores the configured `tokenRateLimit`.
   */
  setTokenRateLimit(on: boolean): void {
    if (typeof on !== 'boolean') throw new Error('tokenRateLimit is true or false');
    this.ctx.state.tokenRateLimit = on;
  }

  /** The app settings that can change at runtime. */
  settings(): { autoLink: boolean; tokenRateLimit: boolean } {
    return { autoLink: this.ctx.state.autoLink, tokenRateLimit: this.ctx.state.tokenRateLimit };
  }

  /**
   * Back to the personas file: users, consents, codes, tokens, next user, faults, call counts and the auto-link
   * and token rate limit settings.
   */
  reset(): void {
    if (this.addedTerms !== undefined) this.ctx.config.serviceTerms.splice(this.addedTerms);
    this.addedTerms = undefined;
    this.clearFaults();
    this.ctx.faults.resetCounts();
    this.ctx.state.reset();
  }

  // ----------------------------------------------------------------------------------------- faults

  /** Injects a fault; returns its id (for removeFault). */
  injectFault(spec: FaultSpec): string {
    return this.ctx.faults.add(spec).id;
  }

  removeFault(id: string): boolean {
    return this.ctx.faults.remove(id);
  }

  /** Removes every fault; requests held by `hang` are cut off. */
  clearFaults(): void {
    this.ctx.faults.clear();
  }

  faults(): Fault[] {
    return this.ctx.faults.faults.map((f) => ({ ...f }));
  }

  // ------------------------------------------------------------------------------------------- keys

  /** A new signing key; the previous one stays in the JWKS, the oldest leaves it. Returns the new kid. */
  rotateKeys(): Promise<string> {
    return this.ctx.keys.rotate();
  }

  jwks(): { keys: Jwk[] } {
    return this.ctx.keys.jwks();
  }

  get currentKid(): string {
    return this.ctx.keys.currentKid;
  }

  // ------------------------------------------------------------------------------------------ calls

  /** How many requests each endpoint received, keyed `METHOD /path` (control calls not counted). */
  callCounts(): Record<string, number> {
    return Object.fromEntries(this.ctx.faults.calls);
  }

  callCount(method: string, path: string): number {
    return this.ctx.faults.count(method, path);
  }

  /** The last 200 requests (method, path, query, body, Authorization), oldest first. */
  requests(filter: { method?: string; path?: string } = {}): RecordedRequest[] {
    return this.ctx.faults.requests(filter);
  }

  // ----------------------------------------------------------------------------------------- tokens

  /**
   * Tokens as a native Kakao SDK would hold them after a login (the user is linked first if needed): the
   * `/oauth/token` answer. `clientId` may be any string, to make id_tokens for a wrong audience.
   */
  async issueTokensFor(userId: string, options: IssueTokensOptions = {}): Promise<TokenResponse> {
    const { state, tokens, config } = this.ctx;
    const user = this.mustGet(userId);
    // A first login shows every Kakao Sync term (KAKAO_API.md 9); the persona answers as on the screen.
    const firstLinkTerms = user.linked
      ? []
      : state.personaDefaultTerms(
          user,
          config.serviceTerms.map((t) => t.tag),
        );
    state.link(
      user,
      options.scopes ?? state.personaDefaultScopes(user, state.configuredItems()),
      options.terms ?? firstLinkTerms,
      'KAUTH',
    );
    return tokens.issue({
      user,
      clientId: options.clientId ?? config.restApiKey,
      openid: options.openid ?? config.oidc,
      authTime: options.authTime ?? nowSeconds(),
      nonce: options.nonce,
    });
  }

  /** Sets how long a refresh token has left (to exercise the "reissue under 30 days" rule, KAKAO_API.md 2). */
  ageRefreshToken(refreshToken: string, remainingSeconds: number): void {
    const entry = this.ctx.state.refreshTokens.get(refreshToken);
    if (!entry) throw new Error('unknown refresh token');
    if (!Number.isFinite(remainingSeconds)) throw new Error('remainingSeconds must be a number');
    entry.expiresAt = Date.now() + remainingSeconds * 1000;
  }

  /** Seconds a refresh token has left, or undefined when it is unknown (spent, revoked, never issued). */
  refreshTokenRemaining(refreshToken: string): number | undefined {
    const entry = this.ctx.state.refreshTokens.get(refreshToken);
    return entry && Math.floor((entry.expiresAt - Date.now()) / 1000);
  }

  /** Expires an access token at once (kapi then answers -401 "already expired"). */
  expireAccessToken(accessToken: string): void {
    const entry = this.ctx.state.accessTokens.get(accessToken);
    if (!entry) throw new Error('unknown access token');
    entry.expiresAt = Date.now() - 1000;
  }

  // --------------------------------------------------------------------------------------- webhooks

  /** Kakao's unlink webhook to `url` (KAKAO_API.md 7.1). Only sends; see unlinkUser to change the state too. */
  sendUnlinkWebhook(url: string, input: UnlinkWebhookInput): Promise<WebhookResult> {
    return sendUnlinkWebhook(this.ctx.config, url, input);
  }

  /** An account status change Security Event Token to `url` (KAKAO_API.md 7.2), signed with the current key. */
  sendAccountStatusEvent(url: string, input: AccountStatusEventInput): Promise<AccountStatusResult> {
    return sendAccountStatusEvent(this.ctx.config, this.ctx.keys, url, input);
  }

  private mustGet(userId: string): UserState {
    const user = this.ctx.state.users.get(userId);
    if (!user) throw new UnknownUserError(userId);
    return user;
  }
}

/** Starts an emulator and resolves once it listens. */
export async function startKakaoEmulator(options: KakaoEmulatorOptions): Promise<KakaoEmulator> {
  const config = resolveConfig(options);
  const personas = options.personas
    ? checkPersonas(options.personas, 'options.personas')
    : loadPersonas(options.personasFile);
  const keys = await KeyRing.create(config.rsaBits);
  const state = new EmulatorState(config, personas);
  const ctx: EmulatorContext = {
    config,
    state,
    keys,
    tokens: new TokenService(config, state, keys),
    faults: new FaultRegistry(),
  };
  const app = await buildServer(ctx);
  // The control routes need the emulator object, which needs the app: a holder breaks the cycle.
  const holder: { emulator?: KakaoEmulator } = {};
  registerControlApi(app, () => holder.emulator!);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  config.port = typeof address === 'object' && address ? address.port : config.port;
  if (!config.baseUrl) {
    const host =
      config.host === '0.0.0.0' || config.host === '::'
        ? '127.0.0.1'
        : config.host.includes(':')
          ? `[${config.host}]`
          : config.host;
    config.baseUrl = `http://${host}:${config.port}`;
  }
  if (!config.issuer) config.issuer = config.baseUrl;
  const sweeper = setInterval(() => state.sweep(), SWEEP_INTERVAL_MS);
  sweeper.unref();
  holder.emulator = new KakaoEmulator(app, ctx, sweeper);
  return holder.emulator;
}
