import { isIP } from 'node:net';
import { ConfigError, Environment, validateEnvironment } from './environment';
import { isPlaceholderSecret, weakSecretReason } from './secrets';

export interface ServiceClient {
  name: string;
  secret: string;
}

/** Typed, namespaced configuration built once at boot from the validated environment. */
export interface AppConfig {
  env: 'development' | 'test' | 'production';
  http: {
    port: number;
    host: string;
    publicUrl: string;
    demoEnabled: boolean;
    /**
     * Addresses and ranges of the reverse proxies in front of the service, whose X-Forwarded-For entries are
     * believed; empty: the client is the peer of the socket.
     */
    trustProxy: string[];
  };
  db: { url: string; migrationsRun: boolean; poolSize: number };
  jwt: {
    secret: string;
    previousSecrets: string[];
    issuer: string;
    audience: string;
    accessTokenTtl: number;
    refreshTokenTtl: number;
    refreshTokenIdleTtl: number;
  };
  tokenEncryptionKey: Buffer;
  /** Keys that still decrypt values sealed before a rotation of TOKEN_ENCRYPTION_KEY. */
  previousEncryptionKeys: Buffer[];
  kakao: {
    restApiKey: string;
    clientSecret?: string;
    adminKey: string;
    appId: string;
    redirectUri: string;
    extraAudiences: string[];
    authBaseUrl: string;
    apiBaseUrl: string;
    issuer: string;
    scopes: string[];
    requiredItems: string[];
    httpTimeoutMs: number;
  };
  allowedReturnUrls: string[];
  allowedCodeRedirectUris: string[];
  serviceClients: ServiceClient[];
  unlinkWebhookPolicy: 'withdraw' | 'withdraw-all';
  termsCatalogFile: string;
  mailTransport: string;
  /** Whether this instance runs the job queue's workers (it queues jobs either way). */
  queueWorkers: boolean;
  logLevel: string;
  rateLimit: { authPerMinute: number; accountFailuresPerMinute: number };
}

export const APP_CONFIG = Symbol('APP_CONFIG');

const list = (value: string | undefined, separator: RegExp | string = ','): string[] =>
  (value ?? '')
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);

const stripTrailingSlash = (url: string) => url.replace(/\/+$/, '');

function parseServiceClients(value: string | undefined, problems: string[]): ServiceClient[] {
  return list(value).flatMap((entry) => {
    const i = entry.indexOf(':');
    if (i <= 0 || i === entry.length - 1) {
      problems.push('SERVICE_CLIENTS must be a comma-separated list of name:secret');
      return [];
    }
    return [{ name: entry.slice(0, i), secret: entry.slice(i + 1) }];
  });
}

function parseEncryptionKey(value: string, problems: string[], name = 'TOKEN_ENCRYPTION_KEY'): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== value.trim().replace(/=+$/, '')) {
    problems.push(`${name} must be 32 bytes encoded in base64`);
  }
  return key;
}

function parseUrls(name: string, values: string[], problems: string[]): string[] {
  for (const v of values) {
    try {
      const u = new URL(v);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      problems.push(`${name} contains an invalid URL`);
      break;
    }
  }
  return values;
}

/** proxy-addr's names for the ranges a proxy on the same host or network usually has. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY: the proxies' addresses, CIDR ranges or range names. Never "everyone" and never a hop count:
 * either would believe an X-Forwarded-For written by the client itself, and let it pick a fresh rate-limit
 * budget per request (Fastify ignores forwarded headers from untrusted peers, so a count trusts nothing).
 */
function parseTrustProxy(value: string | undefined, problems: string[]): string[] {
  const v = value?.trim().toLowerCase();
  if (!v || v === 'false') return [];
  if (v === 'true' || /^\d+$/.test(v)) {
    problems.push(
      'TRUST_PROXY must list the addresses or CIDR ranges of the proxies in front of the service (e.g. 10.0.0.0/8), not true or a count: those would believe an X-Forwarded-For written by any client',
    );
    return [];
  }
  const entries = list(v);
  const bad = entries.find((entry) => {
    if (PROXY_RANGE_NAMES.has(entry)) return false;
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return true;
    if (prefix === undefined) return false;
    return !/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128);
  });
  if (bad !== undefined) {
    problems.push(
      `TRUST_PROXY: "${bad}" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal`,
    );
    return [];
  }
  return entries;
}

export function buildConfig(e: Environment): AppConfig {
  const problems: string[] = [];
  const publicUrl = stripTrailingSlash(e.PUBLIC_URL ?? 'http://localhost:3000');
  const authBaseUrl = stripTrailingSlash(e.KAKAO_AUTH_BASE_URL ?? 'https://kauth.kakao.com');
  const redirectUri = e.KAKAO_REDIRECT_URI ?? `${publicUrl}/auth/kakao/callback`;
  const previousSecrets = list(e.JWT_PREVIOUS_SECRETS);

  // Refused in every environment (API.md): a development or test instance reachable by anyone else is as
  // exposed as production, and a placeholder in one tends to travel to the next.
  const reasons: Array<[string, string | null]> = [
    ['JWT_SECRET', weakSecretReason(e.JWT_SECRET)],
    ...previousSecrets.map((s): [string, string | null] => ['JWT_PREVIOUS_SECRETS', weakSecretReason(s)]),
    ['TOKEN_ENCRYPTION_KEY', weakSecretReason(e.TOKEN_ENCRYPTION_KEY, { minBytes: 0 })],
    // Kakao issues the admin key, so only a copied placeholder is refused: with it anyone could send us
    // "authenticated" unlink webhooks.
    ['KAKAO_ADMIN_KEY', isPlaceholderSecret(e.KAKAO_ADMIN_KEY) ? 'is a placeholder value' : null],
  ];
  // The key's format first: of its problems only the first is shown, and "abc" is the wrong shape before it
  // is a weak value.
  const tokenEncryptionKey = parseEncryptionKey(e.TOKEN_ENCRYPTION_KEY, problems);
  const previousEncryptionKeys = list(e.TOKEN_ENCRYPTION_PREVIOUS_KEYS).map((k) =>
    parseEncryptionKey(k, problems, 'TOKEN_ENCRYPTION_PREVIOUS_KEYS'),
  );
  for (const [name, reason] of reasons) if (reason) problems.push(`${name} ${reason}`);
  const serviceClients = parseServiceClients(e.SERVICE_CLIENTS, problems);
  const scopes = list(e.KAKAO_SCOPES ?? 'openid profile_nickname account_email', /[\s,]+/);
  if (!scopes.includes('openid')) scopes.unshift('openid');

  const config: AppConfig = {
    env: (e.NODE_ENV ?? 'production') as AppConfig['env'],
    http: {
      port: e.PORT ?? 3000,
      host: e.HOST ?? '0.0.0.0',
      publicUrl,
      demoEnabled: e.DEMO_ENABLED ?? e.NODE_ENV === 'development',
      trustProxy: parseTrustProxy(e.TRUST_PROXY, problems),
    },
    db: { url: e.DATABASE_URL, migrationsRun: e.DB_MIGRATIONS_RUN ?? true, poolSize: e.DB_POOL_SIZE ?? 10 },
    jwt: {
      secret: e.JWT_SECRET,
      previousSecrets,
      issuer: e.JWT_ISSUER ?? publicUrl,
      audience: e.JWT_AUDIENCE ?? 'kakao-auth',
      accessTokenTtl: e.ACCESS_TOKEN_TTL ?? 900,
      refreshTokenTtl: e.REFRESH_TOKEN_TTL ?? 2_592_000,
      refreshTokenIdleTtl: e.REFRESH_TOKEN_IDLE_TTL ?? 1_209_600,
    },
    tokenEncryptionKey,
    previousEncryptionKeys,
    kakao: {
      restApiKey: e.KAKAO_REST_API_KEY,
      clientSecret: e.KAKAO_CLIENT_SECRET || undefined,
      adminKey: e.KAKAO_ADMIN_KEY,
      appId: e.KAKAO_APP_ID,
      redirectUri,
      extraAudiences: list(e.KAKAO_EXTRA_AUDIENCES),
      authBaseUrl,
      apiBaseUrl: stripTrailingSlash(e.KAKAO_API_BASE_URL ?? 'https://kapi.kakao.com'),
      issuer: stripTrailingSlash(e.KAKAO_ISSUER ?? authBaseUrl),
      scopes,
      requiredItems:
        e.KAKAO_REQUIRED_ITEMS?.trim() === 'none' ? [] : list(e.KAKAO_REQUIRED_ITEMS ?? 'account_email', /[\s,]+/),
      httpTimeoutMs: e.KAKAO_HTTP_TIMEOUT_MS ?? 5000,
    },
    allowedReturnUrls: parseUrls('ALLOWED_RETURN_URLS', list(e.ALLOWED_RETURN_URLS), problems),
    allowedCodeRedirectUris: parseUrls(
      'ALLOWED_CODE_REDIRECT_URIS',
      e.ALLOWED_CODE_REDIRECT_URIS ? list(e.ALLOWED_CODE_REDIRECT_URIS) : [redirectUri],
      problems,
    ),
    serviceClients,
    unlinkWebhookPolicy: (e.UNLINK_WEBHOOK_POLICY ?? 'withdraw') as AppConfig['unlinkWebhookPolicy'],
    termsCatalogFile: e.TERMS_CATALOG_FILE ?? 'config/terms.json',
    mailTransport: e.MAIL_TRANSPORT ?? 'log',
    queueWorkers: e.QUEUE_WORKERS ?? true,
    logLevel: e.LOG_LEVEL ?? 'info',
    rateLimit: {
      authPerMinute: e.RATE_LIMIT_AUTH_PER_MINUTE ?? 120,
      accountFailuresPerMinute: e.RATE_LIMIT_ACCOUNT_FAILURES_PER_MINUTE ?? 10,
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Below this a service client's secret is guessable; refusing it would break deployments that start with one. */
export const SERVICE_CLIENT_SECRET_MIN_LENGTH = 16;

/**
 * What is accepted but unwise, logged once at startup. Names, never secrets: the log is read by more
 * people than the configuration.
 */
export function configWarnings(config: AppConfig): string[] {
  const warnings = config.serviceClients
    .filter((c) => c.secret.length < SERVICE_CLIENT_SECRET_MIN_LENGTH)
    .map(
      (c) =>
        `SERVICE_CLIENTS: the secret of client "${c.name}" is shorter than ${SERVICE_CLIENT_SECRET_MIN_LENGTH} characters; use a long random one`,
    );
  // Mail links (email verification, reactivation) open the first front-end, or else the demo page.
  if (config.allowedReturnUrls.length === 0 && !config.http.demoEnabled) {
    warnings.push(
      'ALLOWED_RETURN_URLS is empty and the demo page is off: the links in verification and reactivation mails lead to a page that does not exist; list the front-end that takes them',
    );
  }
  return warnings;
}

/** Reads, validates and types the configuration; throws ConfigError with one message naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return buildConfig(validateEnvironment(env));
}
