import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startKakaoEmulator, type KakaoEmulator } from '../../emulator';
import { freePort } from '../../scripts/lib/ports';
import { createApp } from '../../src/app.factory';
import { buildConfig } from '../../src/config/app-config';
import { validateEnvironment } from '../../src/config/environment';
import type { TestApp } from '../support/app';
import { connect, createTestDatabase } from '../support/database';
import { testEnvironment } from '../support/env';
import { ADMIN_KEY, APP_ID, REST_API_KEY } from '../support/kakao';
import { ROOT } from '../support/process';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). Never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/**
 * The browser tests' `describe`. Without Chromium they fail with one test that says how to install it, rather
 * than being skipped: a skipped browser suite would let a broken demo page pass unseen (`.ci/run` installs
 * Debian's chromium when it is missing).
 */
export function describeInBrowser(name: string, fn: () => void): void {
  describe(name, () => {
    if (hasChromium) {
      fn();
      return;
    }
    it('needs Chromium', () => {
      throw new Error(
        `No Chromium at ${CHROMIUM}. Install Debian's chromium (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH.`,
      );
    });
  });
}

// A browser walk spans several page loads and the service's work behind them.
jest.setTimeout(60_000);

export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'browser');

/** A full-page screenshot kept as a test artifact (test-artifacts/browser/<name>.png, not committed). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Headless Chromium as the machine's notes prescribe: no background networking, sync, component updates or
 * QUIC (this machine's closed network refuses them, noisily). playwright-core adds --no-sandbox itself
 * (its chromiumSandbox option is off by default), which Chromium needs when the tests run as root.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    // Below jest's timeout, so that a stuck step fails with Playwright's message (what it waited for).
    timeout: 30_000,
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh browser context (its own cookies and sessionStorage) and page, in Korean at a desktop size. Each
 * step waits at most 20 s, well below jest's timeout, so a stuck step names what it was waiting for.
 */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ locale: 'ko-KR', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(20_000);
  return context.newPage();
}

export interface DemoBed {
  /** The service, shaped like the e2e tests' TestApp (so test/support helpers such as waitForMail work). */
  t: TestApp;
  kakao: KakaoEmulator;
  /** The demo page's URL, also the allowed return URL. */
  demoUrl: string;
  close(): Promise<void>;
}

/**
 * The service with the demo enabled and a Kakao emulator, wired to each other for a real browser: unlike
 * startWithKakao (whose callback URL is fixed and never visited), the browser follows Kakao's redirect to
 * the service's callback, so the service listens on a port chosen first and registered at the emulator.
 */
export async function startDemo(): Promise<DemoBed> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const demoUrl = `${url}/demo`;
  const callback = `${url}/auth/kakao/callback`;
  const kakao = await startKakaoEmulator({
    restApiKey: REST_API_KEY,
    adminKey: ADMIN_KEY,
    appId: APP_ID,
    appName: '카카오 로그인 데모',
    redirectUris: [callback],
    logoutRedirectUris: [demoUrl],
  });
  const databaseUrl = await createTestDatabase('demo');
  const env = testEnvironment({
    DATABASE_URL: databaseUrl,
    PUBLIC_URL: url,
    // Mails are read from the log (MAIL_TRANSPORT=log), so the log must be on.
    LOG_LEVEL: 'info',
    DEMO_ENABLED: 'true',
    KAKAO_AUTH_BASE_URL: kakao.url,
    KAKAO_API_BASE_URL: kakao.url,
    KAKAO_REDIRECT_URI: callback,
    ALLOWED_RETURN_URLS: demoUrl,
    KAKAO_SCOPES:
      'openid profile_nickname profile_image account_email name gender age_range birthyear birthday phone_number',
  });
  const config = buildConfig(validateEnvironment(env));
  const logs: Array<Record<string, unknown>> = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  const app: NestFastifyApplication = await createApp(config, { logStream });
  await app.listen({ port, host: '127.0.0.1' });
  const db = await connect(databaseUrl);
  const t: TestApp = {
    app,
    config,
    url,
    databaseUrl,
    db,
    logs,
    async close() {
      await db.end();
      await app.close();
    },
  };
  return {
    t,
    kakao,
    demoUrl,
    async close() {
      await t.close();
      await kakao.close();
    },
  };
}

/** Waits until the demo page has read its address bar and drawn itself (the script marks <body>). */
export async function demoReady(page: Page): Promise<void> {
  await page.waitForSelector('body[data-ready="true"]');
}

/**
 * Marks the current page stale before a click leaves it (a link to Kakao, a redirect back), so that
 * demoReady then waits for the next demo page rather than this one.
 */
export async function markStale(page: Page): Promise<void> {
  await page.locator('body').evaluate((body) => body.setAttribute('data-ready', 'stale'));
}

/** On the emulator's consent page: picks the persona and agrees (everything stays ticked, as by default). */
export async function agreeOnKakao(page: Page, kakao: KakaoEmulator, personaId: string): Promise<void> {
  await page.waitForURL((u) => u.toString().startsWith(`${kakao.url}/oauth/authorize`));
  await page.check(`input[name="user"][value="${personaId}"]`);
  await page.click('button[name="decision"][value="agree"]');
}

/** What the page keeps in sessionStorage. */
export interface StoredSession {
  tokens?: { accessToken: string; refreshToken: string };
  outcome?: { result: string };
}

export async function storedSession(page: Page): Promise<StoredSession> {
  // A string expression: these files are typed for Node (no DOM lib), the expression runs in the page.
  const raw = await page.evaluate<string | null>("sessionStorage.getItem('kakao-auth-demo')");
  return JSON.parse(raw ?? '{}') as StoredSession;
}
