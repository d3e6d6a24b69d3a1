import type { Browser, Page } from 'playwright-core';
import { waitForMail } from '../support/mail';
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
 * The link-required branch in the browser: a person signed up with email first (same email and name as
 * their Kakao account, email verified through the mail's link), then logs in with Kakao; the demo shows
 * LINK_REQUIRED with the masked candidate and links on confirmation.
 */
describeInBrowser('demo page: an email member meets their Kakao account (LINK_REQUIRED)', () => {
  // Persona "lunar-leap" of emulator/personas.json: 정튜브, tube@kakao.example, email valid and verified.
  const KAKAO_NAME = '정튜브';
  const KAKAO_EMAIL = 'tube@kakao.example';
  const PASSWORD = 'correct horse battery staple';
  let bed: DemoBed;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    bed = await startDemo();
    browser = await launchBrowser();
    page = await newPage(browser);
  });
  afterAll(async () => {
    await browser?.close();
    await bed?.close();
  });

  it('signs up with email on the demo, verifies the address from the mail, logs out', async () => {
    await page.goto(bed.demoUrl);
    await demoReady(page);
    await page.click('[data-action="tab-signup"]');
    const form = page.locator('form[data-form="email-signup"]');
    await form.locator('input[name="name"]').fill(KAKAO_NAME);
    await form.locator('input[name="email"]').fill(KAKAO_EMAIL);
    await form.locator('input[name="password"]').fill(PASSWORD);
    await form.locator('button[type="submit"]').click();
    await page.waitForSelector('[data-screen="signed-in"] [data-slot="name"]:has-text("정튜브")');
    await expect(page.locator('[data-slot="email-badge"]').textContent()).resolves.toContain('unverified');

    // The verification mail links to the demo with the token in the fragment; the page posts it.
    const mail = await waitForMail(bed.t, { to: KAKAO_EMAIL, template: 'email-verification' });
    expect(mail.link).toMatch(new RegExp(`^${bed.demoUrl}#email-verification-token=`));
    await markStale(page);
    await page.goto(mail.link!);
    await demoReady(page);
    await expect(page.locator('.notice.success').textContent()).resolves.toContain('이메일 주소를 확인했습니다');
    await expect(page.locator('[data-slot="email-badge"]').textContent()).resolves.toContain('verified');
    expect(page.url()).toBe(bed.demoUrl);

    await page.click('[data-action="logout"]');
    await page.waitForSelector('[data-screen="signed-out"]');
  });

  it('logs in with Kakao: LINK_REQUIRED with the masked member, confirmed into one member with both logins', async () => {
    await markStale(page);
    await page.click('a.kakao-login');
    await agreeOnKakao(page, bed.kakao, PERSONA.lunarLeap);
    await demoReady(page);
    const screen = page.locator('[data-screen="LINK_REQUIRED"]');
    await screen.waitFor();
    // Masked, as API.md's candidate: the person recognises the account without it being disclosed.
    await expect(screen.locator('[data-slot="masked-name"]').textContent()).resolves.toMatch(/^정\*+브$/);
    await expect(screen.locator('[data-slot="masked-email"]').textContent()).resolves.toMatch(/^tu\*+@/);
    await screenshot(page, 'demo-link-required');

    await screen.locator('[data-action="link-confirm"]').click();
    await page.waitForSelector('[data-screen="signed-in"] [data-identity="kakao"]');
    await expect(page.locator('[data-identity="kakao"]').textContent()).resolves.toContain(PERSONA.lunarLeap);
    await expect(page.locator('[data-login-method]').allTextContents()).resolves.toEqual(['password', 'kakao']);
    const outcome = JSON.parse((await page.locator('[data-slot="outcome-json"]').textContent())!);
    expect(outcome.result).toBe('LINKED');
    const { rows } = await bed.t.db.query(`SELECT count(*)::int AS n FROM members`);
    expect(rows[0].n).toBe(1);
    await screenshot(page, 'demo-linked');
  });
});
