import { randomBytes } from 'node:crypto';
import { startKakaoEmulator, KakaoEmulator } from '../../emulator';
import { PERSONA_IDS } from '../../emulator/personas';
import { startTestApp, TestApp, TestAppOptions } from './app';
import { call } from './http';

export const REST_API_KEY = 'test-rest-api-key';
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
export const APP_ID = '1234567';
export const CALLBACK = 'http://127.0.0.1:3000/auth/kakao/callback';
export const FRONTEND = 'https://app.example.com/auth';
export const HYBRID_REDIRECT = 'https://app.example.com/kakao/callback';

/** Persona ids of emulator/personas.json. */
export const PERSONA = PERSONA_IDS;

export interface KakaoTestBed {
  /** The service; a test may replace it (restart on the same database with `env`). */
  t: TestApp;
  kakao: KakaoEmulator;
  /** The environment the service was started with (wired to the emulator). */
  env: Record<string, string | undefined>;
  close(): Promise<void>;
}

/** The service and a Kakao emulator wired to each other, on a fresh database. */
export async function startWithKakao(
  options: TestAppOptions & { emulator?: { clientSecret?: string } } = {},
): Promise<KakaoTestBed> {
  const kakao = await startKakaoEmulator({
    restApiKey: REST_API_KEY,
    adminKey: ADMIN_KEY,
    appId: APP_ID,
    clientSecret: options.emulator?.clientSecret,
    redirectUris: [CALLBACK, HYBRID_REDIRECT],
    extraAppKeys: ['test-native-app-key'],
  });
  const env = {
    // Fixed for the bed, so a restart or a second instance on the same database shares them, as in production.
    JWT_SECRET: randomBytes(48).toString('base64url'),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    KAKAO_AUTH_BASE_URL: kakao.url,
    KAKAO_API_BASE_URL: kakao.url,
    KAKAO_REDIRECT_URI: CALLBACK,
    ALLOWED_RETURN_URLS: FRONTEND,
    ALLOWED_CODE_REDIRECT_URIS: HYBRID_REDIRECT,
    KAKAO_EXTRA_AUDIENCES: 'test-native-app-key',
    KAKAO_SCOPES:
      'openid profile_nickname profile_image account_email name gender age_range birthyear birthday phone_number',
    ...(options.emulator?.clientSecret ? { KAKAO_CLIENT_SECRET: options.emulator.clientSecret } : {}),
    ...options.env,
  };
  const bed: KakaoTestBed = {
    t: await startTestApp({ ...options, env }),
    kakao,
    env,
    async close() {
      await bed.t.close();
      await kakao.close();
    },
  };
  return bed;
}

export interface BrowserLogin {
  /** The service's answer to Kakao's redirect back. */
  callback: Response;
  /** Where Kakao sent the browser (the service callback URL with code/state or error). */
  kakaoRedirect: URL;
  cookie: string;
}

/**
 * Walks the redirect flow as a browser would: start at the service, pass Kakao's authorize step (the
 * emulator's skip switch stands in for the consent screen), and come back to the callback with the cookie.
 */
export async function browserLogin(
  bed: KakaoTestBed,
  options: {
    userId?: string;
    returnTo?: string;
    query?: Record<string, string>;
    kakaoQuery?: Record<string, string>;
    cookie?: string;
    /**
     * Start here instead of /auth/kakao/login: a service URL, or Kakao's authorize URL itself (a consentUrl
     * the service handed out, followed with the browser's `cookie`).
     */
    start?: string;
  } = {},
): Promise<BrowserLogin> {
  const start = new URL(options.start ?? `${bed.t.url}/auth/kakao/login`);
  let cookie: string;
  let authorize: URL;
  if (start.origin === new URL(bed.kakao.url).origin) {
    cookie = options.cookie ?? '';
    authorize = start;
  } else {
    if (options.returnTo) start.searchParams.set('returnTo', options.returnTo);
    for (const [k, v] of Object.entries(options.query ?? {})) start.searchParams.set(k, v);
    const first = await fetch(start, { redirect: 'manual', headers: options.cookie ? { cookie: options.cookie } : {} });
    if (first.status !== 302) throw new Error(`login start answered ${first.status}: ${await first.text()}`);
    cookie = options.cookie ?? (first.headers.get('set-cookie') ?? '').split(';')[0];
    authorize = new URL(first.headers.get('location')!);
  }
  if (options.userId) authorize.searchParams.set('emulator_user', options.userId);
  for (const [k, v] of Object.entries(options.kakaoQuery ?? {})) authorize.searchParams.set(k, v);
  const atKakao = await fetch(authorize, { redirect: 'manual' });
  if (atKakao.status !== 302) throw new Error(`emulator authorize answered ${atKakao.status}: ${await atKakao.text()}`);
  const kakaoRedirect = new URL(atKakao.headers.get('location')!);
  const callback = await fetch(`${bed.t.url}/auth/kakao/callback${kakaoRedirect.search}`, {
    redirect: 'manual',
    headers: { cookie },
  });
  return { callback, kakaoRedirect, cookie };
}

/**
 * The hybrid flow's front-end half: a code from Kakao's authorize step for `userId` (the emulator's skip
 * switch stands in for the consent screen), issued to HYBRID_REDIRECT.
 */
export async function hybridCode(bed: KakaoTestBed, userId: string, params: Record<string, string> = {}) {
  const url = new URL(`${bed.kakao.url}/oauth/authorize`);
  url.search = new URLSearchParams({
    client_id: REST_API_KEY,
    redirect_uri: HYBRID_REDIRECT,
    response_type: 'code',
    scope: 'openid profile_nickname account_email',
    emulator_user: userId,
    ...params,
  }).toString();
  const location = (await fetch(url, { redirect: 'manual' })).headers.get('location');
  const code = location && new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code from the emulator: ${location}`);
  return code;
}

/** A whole hybrid login (`POST /auth/kakao/code`) of `userId`; the service's answer. */
export async function hybridLogin(bed: KakaoTestBed, userId: string, params: Record<string, string> = {}) {
  const code = await hybridCode(bed, userId, params);
  return call(bed.t, 'POST', '/auth/kakao/code', { body: { code, redirectUri: HYBRID_REDIRECT } });
}
