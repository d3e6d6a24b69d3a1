import type { Browser, Page } from 'playwright-core';
import { signup } from '../support/http';
import { PERSONA } from '../support/kakao';
import {
  agreeOnKakao,
  DemoBed,
  demoReady,
  describeInBrowser,
  launchBrowser,
  markStale,
  newPage,
  screenshot,
  startDemo,
} from './support';

/**
 * The two other screens of a Kakao login that needs the person (a password prompt and a consent link), and
 * linking and unlinking Kakao from the signed-in page.
 */
describeInBrowser('demo page: VERIFICATION_REQUIRED, MANDATORY_ITEMS_NOT_AGREED, link and unlink', () => {
  let bed: DemoBed;
  let browser: Browser;

  beforeAll(async () => {
    bed = await startDemo();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await bed?.close();
  });

  async function kakaoLogin(page: Page, personaId: string, onConsentPage?: () => Promise<void>): Promise<void> {
    await page.goto(bed.demoUrl);
    await demoReady(page);
    await markStale(page);
    await page.click('a.kakao-login');
    await page.waitForURL((u) => u.toString().startsWith(`${bed.kakao.url}/oauth/authorize`));
    await onConsentPage?.();
    await agreeOnKakao(page, bed.kakao, personaId);
    await demoReady(page);
  }

  it("VERIFICATION_REQUIRED (Kakao's email unverified): the password of the existing account links it", async () => {
    // Persona "email-unverified" (이무지, muzi@kakao.example) and an email member with that address.
    const existing = await signup(bed.t, { email: 'muzi@kakao.example', name: '이무지' });
    const page = await newPage(browser);
    await kakaoLogin(page, PERSONA.emailUnverified);
    const screen = page.locator('[data-screen="VERIFICATION_REQUIRED"]');
    await screen.waitFor();
    await expect(screen.locator('[data-slot="masked-email"]').textContent()).resolves.toMatch(/^mu\*+@/);
    await screen.locator('input[name="email"]').fill(existing.email);
    await screen.locator('input[name="password"]').fill('not the password');
    await screen.locator('button[type="submit"]').click();
    await page.waitForSelector('.notice.error:has-text("INVALID_CREDENTIALS")');
    await screenshot(page, 'demo-verification-required');

    await screen.locator('input[name="password"]').fill(existing.password);
    await screen.locator('button[type="submit"]').click();
    await page.waitForSelector('[data-screen="signed-in"] [data-identity="kakao"]');
    const outcome = JSON.parse((await page.locator('[data-slot="outcome-json"]').textContent())!);
    expect(outcome.result).toBe('LINKED');
    expect(outcome.member.id).toBe(existing.outcome.member.id);
  });

  it('MANDATORY_ITEMS_NOT_AGREED (email unticked on Kakao): the consent link asks again, then signs up', async () => {
    const page = await newPage(browser);
    await kakaoLogin(page, PERSONA.noEmailConsent, () => page.uncheck('input[name="agree"][value="account_email"]'));
    const screen = page.locator('[data-screen="MANDATORY_ITEMS_NOT_AGREED"]');
    await screen.waitFor();
    await expect(screen.locator('[data-slot="missing-items"]').textContent()).resolves.toContain('이메일');
    await screenshot(page, 'demo-mandatory-items');

    await markStale(page);
    await screen.locator('[data-slot="consent-url"]').click();
    await page.waitForURL((u) => u.toString().startsWith(`${bed.kakao.url}/oauth/authorize`));
    // The Kakao session preselects the account; this time the email is agreed.
    await expect(page.isChecked(`input[name="user"][value="${PERSONA.noEmailConsent}"]`)).resolves.toBe(true);
    await page.click('button[name="decision"][value="agree"]');
    await demoReady(page);
    await page.waitForSelector('[data-screen="signed-in"] [data-slot="email"]:has-text("apeach@kakao.example")');
    const outcome = JSON.parse((await page.locator('[data-slot="outcome-json"]').textContent())!);
    expect(outcome.result).toBe('SIGNED_UP');
  });

  it('links a Kakao account from the signed-in page (intent link), then unlinks it', async () => {
    const page = await newPage(browser);
    await page.goto(bed.demoUrl);
    await demoReady(page);
    await page.click('[data-action="tab-signup"]');
    const form = page.locator('form[data-form="email-signup"]');
    await form.locator('input[name="name"]').fill('홍길동');
    await form.locator('input[name="email"]').fill('gildong@example.com');
    await form.locator('input[name="password"]').fill('correct horse battery staple');
    await form.locator('button[type="submit"]').click();
    await page.waitForSelector('[data-screen="signed-in"] [data-slot="link"]:visible');

    await markStale(page);
    await page.click('[data-action="link"]');
    await agreeOnKakao(page, bed.kakao, PERSONA.defaultProfile);
    await demoReady(page);
    await page.waitForSelector('[data-screen="signed-in"] [data-identity="kakao"]');
    await expect(page.locator('[data-identity="kakao"]').textContent()).resolves.toContain(PERSONA.defaultProfile);
    await expect(page.locator('[data-login-method]').allTextContents()).resolves.toEqual(['password', 'kakao']);
    await screenshot(page, 'demo-linked-from-my-page');

    await page.click('[data-action="unlink"]');
    await page.waitForSelector('.notice.success:has-text("카카오 연결을 끊었습니다")');
    await expect(page.locator('[data-identity]').count()).resolves.toBe(0);
    await expect(page.locator('[data-login-method]').allTextContents()).resolves.toEqual(['password']);
    expect(bed.kakao.isLinked(PERSONA.defaultProfile)).toBe(false);
  });
});
