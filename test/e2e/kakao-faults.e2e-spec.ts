import { call, signup } from '../support/http';
import { hybridCode, HYBRID_REDIRECT, KakaoTestBed, PERSONA, startWithKakao } from '../support/kakao';

/** Kakao failing or hanging: clean errors, no socket pile-up, and the rest of the service unaffected. */
describe('Kakao faults and the circuit breaker', () => {
  let bed: KakaoTestBed;

  beforeAll(async () => {
    bed = await startWithKakao({ env: { KAKAO_HTTP_TIMEOUT_MS: '400' } });
  });
  afterAll(async () => {
    bed.kakao.clearFaults();
    await bed.close();
  });

  const codeLogin = async () => {
    const code = await hybridCode(bed, PERSONA.full);
    return call(bed.t, 'POST', '/auth/kakao/code', { body: { code, redirectUri: HYBRID_REDIRECT } });
  };

  it('a hanging Kakao: logins fail cleanly, other endpoints keep answering, then the circuit opens', async () => {
    const member = await signup(bed.t);
    bed.kakao.injectFault({ path: '/oauth/token', hang: true });
    const burst = Promise.all(Array.from({ length: 8 }, () => codeLogin()));
    // While the logins wait on Kakao, the endpoints that do not need Kakao answer.
    const refresh = await call(bed.t, 'POST', '/auth/refresh', { body: { refreshToken: member.refreshToken } });
    expect(refresh.status).toBe(200);
    expect((await call(bed.t, 'GET', '/health/live')).status).toBe(200);
    const results = await burst;
    for (const r of results) {
      expect(r.status).toBeGreaterThanOrEqual(502);
      expect(r.status).toBeLessThanOrEqual(504);
      expect(r.body.code).toBe('KAKAO_UNAVAILABLE');
    }

    const ready = await call(bed.t, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.kakao).toEqual({ status: 'up', circuit: 'open', degraded: true });

    // Open: the next login does not even reach Kakao.
    const tokenCalls = bed.kakao.callCount('POST', '/oauth/token');
    const paused = await codeLogin();
    expect(paused.status).toBe(503);
    expect(paused.body.code).toBe('KAKAO_UNAVAILABLE');
    expect(bed.kakao.callCount('POST', '/oauth/token')).toBe(tokenCalls);
  });

  it('while the circuit is open: KAKAO_UNAVAILABLE, never a 500, nothing written', async () => {
    const before = (await bed.t.db.query(`SELECT count(*)::int AS n FROM members`)).rows[0].n as number;
    const res = await codeLogin();
    expect(res.body.code).toBe('KAKAO_UNAVAILABLE');
    expect((await bed.t.db.query(`SELECT count(*)::int AS n FROM members`)).rows[0].n).toBe(before);
  });
});
