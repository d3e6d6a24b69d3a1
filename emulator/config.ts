import type { AppKey, KakaoEmulatorOptions, ServiceTermConfig } from './types';

/** Lifetimes in seconds (KAKAO_API.md 2, Lifetimes, and the 10 checklist). */
export const TTL = {
  /** REST API key access token: 6 h, observed `expires_in` 21599. */
  accessRest: 21599,
  /** JavaScript key: 2 h (7199). */
  accessJavascript: 7199,
  /** Native app key: 12 h (43199). */
  accessNative: 43199,
  /** Refresh token: 2 months (5183999 as observed). */
  refresh: 5183999,
  /** A refresh token is reissued only when less than this is left (1 month). */
  refreshReissueBelow: 30 * 24 * 3600,
  /** Authorisation code lifetime: UNCONFIRMED in the doc; 10 minutes here. */
  code: 600,
} as const;

/**
 * Kakao's per-user token rate limit (KAKAO_API.md 2, Rate limit; 8, Quotas): at most this many grants of each
 * type per user within the sliding window. Opt-in (`tokenRateLimit`).
 */
export const TOKEN_RATE_LIMITS = {
  authorization_code: { max: 20, windowMs: 10 * 60_000 },
  refresh_token: { max: 30, windowMs: 60 * 60_000 },
} as const;

export type TokenGrantType = keyof typeof TOKEN_RATE_LIMITS;

/** User properties every app has (KAKAO_API.md 4, `properties`); `userPropertyKeys` adds custom ones. */
export const DEFAULT_USER_PROPERTY_KEYS: readonly string[] = ['nickname', 'profile_image', 'thumbnail_image'];

/** The app's default service terms (mirrors config/terms.json of the service). */
export const DEFAULT_SERVICE_TERMS: ServiceTermConfig[] = [
  { tag: 'service_2024', required: true, revocable: false, title: '서비스 이용약관 · Terms of Service' },
  { tag: 'privacy_2024', required: true, revocable: false, title: '개인정보 수집 및 이용 · Privacy Policy' },
  { tag: 'marketing', required: false, revocable: true, title: '마케팅 정보 수신 · Marketing messages' },
  { tag: 'location', required: false, revocable: true, title: '위치기반 서비스 이용약관 · Location-based services' },
];

export type ClientKind = 'rest' | 'native' | 'javascript';

/** Options with every default applied. `baseUrl` is known once the server listens. */
export interface ResolvedConfig {
  host: string;
  port: number;
  baseUrl: string;
  issuer: string;
  restApiKey: string;
  clientSecret?: string;
  adminKey: string;
  appId: string;
  appName: string;
  redirectUris: string[];
  logoutRedirectUris: string[];
  appKeys: AppKey[];
  serviceTerms: Array<ServiceTermConfig & { revocable: boolean }>;
  consentItems?: string[];
  requiredScopes: string[];
  oidc: boolean;
  /** As configured; the live switch is `EmulatorState.autoLink` (`setAutoLink`, reset restores this). */
  autoLink: boolean;
  /** As configured; the live switch is `EmulatorState.tokenRateLimit` (`setTokenRateLimit`). */
  tokenRateLimit: boolean;
  userPropertyKeys: string[];
  rsaBits: number;
  logger: boolean;
}

export function resolveConfig(options: KakaoEmulatorOptions): ResolvedConfig {
  for (const key of ['restApiKey', 'adminKey', 'appId'] as const) {
    if (!options[key]) throw new Error(`Kakao emulator: option ${key} is required`);
  }
  if (!/^\d+$/.test(options.appId))
    throw new Error('Kakao emulator: appId must be numeric (Kakao app ids are integers)');
  if (!options.redirectUris?.length) throw new Error('Kakao emulator: at least one redirect URI must be registered');
  const terms = options.serviceTerms ?? DEFAULT_SERVICE_TERMS;
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    baseUrl: options.publicUrl?.replace(/\/+$/, '') ?? '',
    issuer: options.issuer?.replace(/\/+$/, '') ?? '',
    restApiKey: options.restApiKey,
    clientSecret: options.clientSecret || undefined,
    adminKey: options.adminKey,
    appId: options.appId,
    appName: options.appName ?? 'Kakao Emulator App',
    redirectUris: [...options.redirectUris],
    logoutRedirectUris: [...(options.logoutRedirectUris ?? [])],
    appKeys: (options.extraAppKeys ?? []).map((k) => (typeof k === 'string' ? { key: k, type: 'native' } : k)),
    serviceTerms: terms.map((t) => ({ ...t, revocable: t.revocable ?? !t.required })),
    consentItems: options.consentItems,
    requiredScopes: options.requiredScopes ?? ['profile_nickname'],
    oidc: options.oidc ?? true,
    autoLink: options.autoLink ?? true,
    tokenRateLimit: options.tokenRateLimit ?? false,
    userPropertyKeys: [...new Set([...DEFAULT_USER_PROPERTY_KEYS, ...(options.userPropertyKeys ?? [])])],
    rsaBits: options.rsaBits ?? 2048,
    logger: options.logger ?? false,
  };
}

/** Which kind of app key a `client_id` is, or undefined when it is not a key of this app. */
export function clientKind(config: ResolvedConfig, clientId: string | undefined): ClientKind | undefined {
  if (!clientId) return undefined;
  if (clientId === config.restApiKey) return 'rest';
  return config.appKeys.find((k) => k.key === clientId)?.type;
}

export function accessTokenTtl(kind: ClientKind): number {
  return kind === 'rest' ? TTL.accessRest : kind === 'native' ? TTL.accessNative : TTL.accessJavascript;
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Emulator options from environment variables: the service's own KAKAO_* names plus EMULATOR_* ones
 * (EMULATOR_PORT, EMULATOR_HOST, EMULATOR_PUBLIC_URL, EMULATOR_REDIRECT_URIS, EMULATOR_LOGOUT_REDIRECT_URIS,
 * EMULATOR_ISSUER, EMULATOR_PERSONAS_FILE, EMULATOR_LOG, EMULATOR_AUTO_LINK, EMULATOR_TOKEN_RATE_LIMIT). Used by main.ts and usable by
 * scripts/dev.ts.
 */
export function emulatorOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): KakaoEmulatorOptions {
  const port = Number(env.EMULATOR_PORT ?? 9080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`EMULATOR_PORT is not a port: ${env.EMULATOR_PORT}`);
  return {
    port,
    host: env.EMULATOR_HOST || '127.0.0.1',
    publicUrl: env.EMULATOR_PUBLIC_URL || undefined,
    restApiKey: env.KAKAO_REST_API_KEY || 'dev-rest-api-key',
    clientSecret: env.KAKAO_CLIENT_SECRET || undefined,
    adminKey: env.KAKAO_ADMIN_KEY || 'dev-admin-key',
    appId: env.KAKAO_APP_ID || '1000001',
    redirectUris: list(
      env.EMULATOR_REDIRECT_URIS || env.KAKAO_REDIRECT_URI || 'http://localhost:3000/auth/kakao/callback',
    ),
    logoutRedirectUris: list(env.EMULATOR_LOGOUT_REDIRECT_URIS),
    extraAppKeys: list(env.KAKAO_EXTRA_AUDIENCES),
    issuer: env.EMULATOR_ISSUER || undefined,
    personasFile: env.EMULATOR_PERSONAS_FILE || undefined,
    logger: switchedOn(env.EMULATOR_LOG),
    // On unless switched off: unset (or anything else) keeps the option's default.
    autoLink: !switchedOff(env.EMULATOR_AUTO_LINK),
    // Opt-in, the other way round.
    tokenRateLimit: switchedOn(env.EMULATOR_TOKEN_RATE_LIMIT),
  };
}

/** Only `true`/`1` switch an opt-in setting on, and only `false`/`0` a default one off. */
const switchedOn = (value: string | undefined) => value === 'true' || value === '1';
const switchedOff = (value: string | undefined) => value === 'false' || value === '0';
