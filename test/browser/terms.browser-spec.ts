import type { Browser, Page } from 'playwright-core';
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
  storedSession,
} from './support';

/**
 * The terms-required branch in the browser: persona "terms-missing" is already linked at Kakao but never
 * agreed to the required privacy_2024 term. The demo shows TERMS_REQUIRED with the catalog's checklist
 * (GET /terms) and continues with POST /auth/terms/agree {termsTicket, tags}.
 */
describeInBrowser('demo page: a required term is missing (TERMS_REQUIRED)', () => {
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

  it('shows the terms checklist with the missing required term, and signs in once it is agreed', async () => {
    await page.goto(bed.demoUrl);
    await demoReady(page);
    await markStale(page);
    await page.click('a.kakao-login');
    await agreeOnKakao(page, bed.kakao, PERSONA.termsMissing);
    await demoReady(page);

    // Checked first, so that a service without the terms work says what it answered instead of timing out.
    expect((await storedSession(page)).outcome?.result).toBe('TERMS_REQUIRED');
    const screen = page.locator('[data-screen="TERMS_REQUIRED"]');
    await screen.waitFor();
    const missing = screen.locator('[data-term="privacy_2024"]');
    await expect(missing.getAttribute('class')).resolves.toContain('missing');
    await expect(missing.textContent()).resolves.toContain('[필수]');
    await expect(screen.locator('[data-term="marketing"]').textContent()).resolves.toContain('[선택]');
    await screenshot(page, 'demo-terms-required');

    await screen.locator('[data-slot="terms-all"]').check();
    await screen.locator('button[type="submit"]').click();
    await page.waitForSelector('[data-screen="signed-in"] [data-identity="kakao"]');
    await expect(page.locator('[data-identity="kakao"]').textContent()).resolves.toContain(PERSONA.termsMissing);
    // The terms card now reads the member's agreements (GET /members/me/terms).
    await expect(
      page.locator('[data-screen="signed-in"] tr[data-term="privacy_2024"]').textContent(),
    ).resolves.toContain('✓');
    await screenshot(page, 'demo-terms-agreed');
  });
});
