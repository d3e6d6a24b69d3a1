import { KakaoEmulator, startKakaoEmulator } from './index';
import { authorizeUrl, FORM } from './testing';

/** The consent page a person walks in a browser, driven here as a browser would. */
describe('Kakao emulator: consent page', () => {
  const REDIRECT = 'http://localhost:3000/auth/kakao/callback';
  const FULL = '4000000000000001001';
  const TERMS_AGREED = '4000000000000001007';
  let kakao: KakaoEmulator;

  beforeAll(async () => {
    kakao = await startKakaoEmulator({
      restApiKey: 'rest-key',
      adminKey: 'admin-key',
      appId: '42',
      appName: '테스트 서비스',
      redirectUris: [REDIRECT],
      logoutRedirectUris: ['http://localhost:3000/bye'],
    });
  });
  afterAll(() => kakao.close());
  beforeEach(() => kakao.reset());

  async function openPage(params: Record<string, string> = {}, cookie?: string) {
    const res = await fetch(authorizeUrl(kakao, { state: 'st-1', ...params }), {
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
    });
    const html = await res.text();
    const requestId = /name="request_id" value="([0-9a-f]+)"/.exec(html)?.[1];
    return { res, html, requestId };
  }

  const submit = (fields: Array<[string, string]>, cookie?: string) =>
    fetch(`${kakao.url}/oauth/authorize/consent`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': FORM, ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(fields).toString(),
    });

  it('renders a Kakao-looking HTML page with the account picker, terms and consent items', async () => {
    const { res, html, requestId } = await openPage({ scope: 'openid profile_nickname account_email' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(requestId).toBeDefined();
    expect(html).toContain('#FEE500');
    expect(html).toContain('테스트 서비스');
    expect(html).toContain('동의하고 계속하기');
    expect(html).toContain('취소');
    for (const nickname of ['라이언', '어피치', '춘식']) expect(html).toContain(nickname);
    // Terms with required / optional marks; required boxes cannot be left unticked.
    expect(html).toMatch(/value="service_2024" checked required> <span class="mark req">\[필수 required\]/);
    expect(html).toMatch(/value="marketing" checked> <span class="mark opt">\[선택 optional\]/);
    // Items: the requested ones plus the app's required nickname, but not openid.
    expect(html).toContain('value="account_email"');
    expect(html).toMatch(/value="profile_nickname" checked required>/);
    expect(html).not.toContain('value="openid"');
    expect(html).not.toContain('value="gender"');
  });

  it('the form POST completes the flow: a code for the chosen account, consents as ticked', async () => {
    const { requestId } = await openPage({ scope: 'openid profile_nickname account_email gender' });
    const res = await submit([
      ['request_id', requestId!],
      ['user', FULL],
      ['agree', 'service_2024'],
      ['agree', 'privacy_2024'],
      ['agree', 'location'],
      ['agree', 'profile_nickname'],
      ['agree', 'account_email'],
      ['decision', 'agree'],
    ]);
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('st-1');
    expect(kakao.state.codes.get(back.searchParams.get('code')!)?.userId).toBe(FULL);
    expect(kakao.consentedScopes(FULL).sort()).toEqual(['account_email', 'profile_nickname']);
    expect(kakao.agreedTerms(FULL).map((t) => t.tag)).toEqual(['service_2024', 'privacy_2024', 'location']);
    expect(res.headers.get('set-cookie')).toMatch(new RegExp(`^kakao_emulator_session=${FULL}\\.\\d+;`));
    // The request is answered once.
    expect(
      (
        await submit([
          ['request_id', requestId!],
          ['decision', 'agree'],
          ['user', FULL],
        ])
      ).status,
    ).toBe(400);
  });

  it('Cancel sends access_denied back', async () => {
    const { requestId } = await openPage();
    const res = await submit([
      ['request_id', requestId!],
      ['decision', 'cancel'],
    ]);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(
      `${REDIRECT}?error=access_denied&error_description=User%20denied%20access&state=st-1`,
    );
  });

  it('shows the page again with an error when a required item is unticked', async () => {
    const { requestId } = await openPage();
    const res = await submit([
      ['request_id', requestId!],
      ['user', FULL],
      ['agree', 'service_2024'],
      ['agree', 'profile_nickname'],
      ['decision', 'agree'],
    ]);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('privacy_2024');
    expect(html).toContain('role="alert"');
    expect(kakao.isLinked(FULL)).toBe(false);
  });

  it('a Kakao session skips the screen for a linked account, until the Kakao account logout', async () => {
    const cookie = `kakao_emulator_session=${TERMS_AGREED}.1700000000`;
    const again = await fetch(authorizeUrl(kakao, {}), { redirect: 'manual', headers: { cookie } });
    expect(again.status).toBe(302);
    expect(kakao.state.codes.get(new URL(again.headers.get('location')!).searchParams.get('code')!)?.authTime).toBe(
      1700000000,
    );
    // prompt=login forces the screen again.
    const { res } = await openPage({ prompt: 'login' }, cookie);
    expect(res.status).toBe(200);
    // A session of an account that never linked still gets the screen.
    expect((await openPage({}, `kakao_emulator_session=${FULL}.1700000000`)).res.status).toBe(200);
    // The Kakao Account logout ends the session.
    const logout = await fetch(
      `${kakao.url}/oauth/logout?client_id=rest-key&logout_redirect_uri=http://localhost:3000/bye`,
      {
        redirect: 'manual',
        headers: { cookie },
      },
    );
    expect(logout.status).toBe(302);
    expect(logout.headers.get('set-cookie')).toMatch(/^kakao_emulator_session=; .*Max-Age=0/);
  });

  it("consenting as the Kakao session's account keeps its auth_time; another account is a fresh login", async () => {
    const agreeAs = async (user: string) => {
      const { requestId } = await openPage({}, `kakao_emulator_session=${FULL}.1700000000`);
      const res = await submit([
        ['request_id', requestId!],
        ['user', user],
        ['agree', 'service_2024'],
        ['agree', 'privacy_2024'],
        ['agree', 'profile_nickname'],
        ['decision', 'agree'],
      ]);
      return kakao.state.codes.get(new URL(res.headers.get('location')!).searchParams.get('code')!)?.authTime;
    };
    expect(await agreeAs(TERMS_AGREED)).toBeGreaterThan(Math.floor(Date.now() / 1000) - 5);
    expect(await agreeAs(FULL)).toBe(1700000000);
  });

  it('preselects the signed-in account on the picker', async () => {
    const { html } = await openPage({ prompt: 'select_account' }, `kakao_emulator_session=${TERMS_AGREED}.1700000000`);
    expect(html).toContain(`value="${TERMS_AGREED}" checked`);
  });
});
