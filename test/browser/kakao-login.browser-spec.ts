import type { Browser, Page } from 'playwright-core';
import { PERSONA } from '../support/kakao';
import { call } from '../support/http';
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
  storedSession,
} from './support';

/**
 * The demo page driven in Chromium as a person would use it, one walk through a member's life with Kakao:
 * the tests run in order and share the browser (and so the emulator's Kakao session cookie).
 */
describeInBrowser('demo page: Kakao sign-up, second login, logout', () => {
  let bed: DemoBed;
  let browser: Browser;
  let page: Page;
  let memberId: string;

  beforeAll(async () => {
    bed = await startDemo();
    browser = await launchBrowser();
    page = await newPage(browser);
  });
  afterAll(async () => {
    await browser?.close();
    await bed?.close();
  });

  it('shows the Kakao login button as the design guide draws it, and the email forms', async () => {
    await page.goto(bed.demoUrl);
    await demoReady(page);
    const button = page.locator('a.kakao-login');
    await expect(button.textContent()).resolves.toBe('카카오 로그인');
    const style = await button.evaluate((el) => {
      const s = el.ownerDocument.defaultView!.getComputedStyle(el);
      const symbol = el.querySelector('svg path');
      return {
        background: s.backgroundColor,
        color: s.color,
        radius: s.borderTopLeftRadius,
        height: s.height,
        symbolFill: symbol?.getAttribute('fill'),
        href: el.getAttribute('href'),
      };
    });
    expect(style).toEqual({
      background: 'rgb(254, 229, 0)', // #FEE500
      color: 'rgba(0, 0, 0, 0.85)',
      radius: '12px',
      height: '45px',
      symbolFill: '#000000',
      href: `/auth/kakao/login?returnTo=${encodeURIComponent(bed.demoUrl)}`,
    });
    await expect(page.locator('form[data-form="email-login"]').isVisible()).resolves.toBe(true);
    await screenshot(page, 'demo-signed-out');
  });

  it('signs up through Kakao: the consent page, the persona picked, everything agreed', async () => {
    await markStale(page);
    await page.click('a.kakao-login');
    await page.waitForURL((u) => u.toString().startsWith(`${bed.kakao.url}/oauth/authorize`));
    // The emulator's consent page: account picker, terms with [필수]/[선택] marks, consent items.
    await expect(page.locator('input[name="user"]').count()).resolves.toBeGreaterThan(5);
    await expect(page.locator('.mark.req').first().textContent()).resolves.toContain('[필수');
    await expect(page.locator('.mark.opt').first().textContent()).resolves.toContain('[선택');
    // Kakao's screens are made for phones: the screenshot at a phone's width.
    await page.setViewportSize({ width: 480, height: 900 });
    await screenshot(page, 'kakao-consent');
    await page.setViewportSize({ width: 1280, height: 900 });
    await agreeOnKakao(page, bed.kakao, PERSONA.full);
    await demoReady(page);

    // Back on the demo, the ticket exchanged and gone from the address bar.
    expect(page.url()).toBe(bed.demoUrl);
    await page.waitForSelector('[data-screen="signed-in"] [data-slot="name"]');
    await expect(page.locator('[data-slot="name"]').textContent()).resolves.toBe('김라이언');
    await expect(page.locator('[data-identity="kakao"]').textContent()).resolves.toContain(PERSONA.full);
    const outcome = JSON.parse((await page.locator('[data-slot="outcome-json"]').textContent())!);
    expect(outcome.result).toBe('SIGNED_UP');
    expect(outcome.member.email).toBe('ryan@kakao.example');
    memberId = outcome.member.id;
    // Tokens are kept in sessionStorage, never in the URL or the history.
    const session = await storedSession(page);
    expect(session.tokens?.accessToken).toEqual(expect.any(String));
    await screenshot(page, 'demo-signed-up');
  });

  let refreshToken: string;

  it('logs out: the session is revoked at the service and forgotten by the page', async () => {
    refreshToken = (await storedSession(page)).tokens!.refreshToken;
    await page.click('[data-action="logout"]');
    await page.waitForSelector('[data-screen="signed-out"]');
    await expect(page.locator('.notice.success').textContent()).resolves.toContain('로그아웃했습니다');
    expect((await storedSession(page)).tokens).toBeUndefined();
    const refresh = await call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken } });
    expect(refresh.status).toBe(401);
    await screenshot(page, 'demo-logged-out');
  });

  it("logs in a second time: Kakao's session skips the consent page, the same member comes back", async () => {
    await markStale(page);
    await page.click('a.kakao-login');
    await demoReady(page);
    await page.waitForSelector('[data-screen="signed-in"] [data-slot="name"]');
    const outcome = JSON.parse((await page.locator('[data-slot="outcome-json"]').textContent())!);
    expect(outcome.result).toBe('LOGGED_IN');
    expect(outcome.member.id).toBe(memberId);
    await expect(page.locator('.notice.success').textContent()).resolves.toContain('로그인했습니다');
    await screenshot(page, 'demo-second-login');
  });
});
