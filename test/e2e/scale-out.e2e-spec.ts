import { startTestApp, TestApp } from '../support/app';
import { call } from '../support/http';
import { KakaoTestBed, PERSONA, startWithKakao } from '../support/kakao';

/** Two instances of the service on one database, behind a load balancer that does not stick. */
describe('scale-out: two instances on one database', () => {
  let bed: KakaoTestBed;
  let other: TestApp;

  beforeAll(async () => {
    bed = await startWithKakao();
    other = await startTestApp({ databaseUrl: bed.t.databaseUrl, env: bed.env });
  });
  afterAll(async () => {
    await other.close();
    await bed.close();
  });

  it('a Kakao login started on one instance finishes on the other', async () => {
    const start = await fetch(`${bed.t.url}/auth/kakao/login`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0];
    const authorize = new URL(start.headers.get('location')!);
    authorize.searchParams.set('emulator_user', PERSONA.full);
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const callback = await fetch(`${other.url}/auth/kakao/callback${back.search}`, { headers: { cookie } });
    expect(callback.status).toBe(200);
    const outcome = (await callback.json()) as { result: string; tokens: { accessToken: string } };
    expect(['SIGNED_UP', 'LOGGED_IN']).toContain(outcome.result);
    // Either instance accepts the tokens the other issued.
    expect((await call(bed.t, 'GET', '/members/me', { token: outcome.tokens.accessToken })).status).toBe(200);
    expect((await call(other, 'GET', '/members/me', { token: outcome.tokens.accessToken })).status).toBe(200);
  });

  it('refreshes alternate between instances; a replay on the other instance is reuse', async () => {
    const signed = await call(bed.t, 'POST', '/auth/signup', {
      body: { email: `scale.${Date.now()}@example.com`, password: 'correct horse battery staple', name: '확장' },
    });
    let refreshToken = signed.body.tokens.refreshToken as string;
    const instances = [bed.t, other];
    for (let i = 0; i < 6; i++) {
      const res = await call(instances[i % 2], 'POST', '/auth/refresh', { body: { refreshToken } });
      expect(res.status).toBe(200);
      refreshToken = res.body.refreshToken;
    }
    const spent = signed.body.tokens.refreshToken as string;
    const replay = await call(other, 'POST', '/auth/refresh', { body: { refreshToken: spent } });
    expect(replay.body.code).toBe('REFRESH_TOKEN_REUSED');
    // The whole family is revoked, on both instances.
    expect((await call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken } })).status).toBe(401);
  });

  it('logging out on one instance ends the session on the other', async () => {
    const signed = await call(other, 'POST', '/auth/signup', {
      body: { email: `scale2.${Date.now()}@example.com`, password: 'correct horse battery staple', name: '확장' },
    });
    const token = signed.body.tokens.accessToken as string;
    expect((await call(other, 'POST', '/auth/logout', { token, body: {} })).status).toBe(204);
    expect((await call(bed.t, 'GET', '/members/me', { token })).status).toBe(401);
  });
});
