import { randomBytes } from 'node:crypto';
import { json } from '../support/app';
import { browserLogin, hybridLogin, KakaoTestBed, startWithKakao } from '../support/kakao';

const JWKS = '/.well-known/jwks.json';

/**
 * Kakao's JWKS down (KAKAO_API.md 3: keys are to be cached). With keys already cached, id_tokens still
 * verify; with none yet, nothing can be verified, so the login fails closed as Kakao being unavailable,
 * writes nothing, and works again once the keys can be fetched, without a restart.
 */
describe('Kakao JWKS down', () => {
  let seq = 0;
  function newKakaoUser(bed: KakaoTestBed): string {
    seq += 1;
    const id = `82000000000000${String(seq).padStart(5, '0')}`;
    const tag = randomBytes(4).toString('hex');
    bed.kakao.addPersona({
      id,
      nickname: `jwks${seq}`,
      name: `열쇠${tag}`,
      email: `jwks.${tag}@kakao.example`,
      isEmailValid: true,
      isEmailVerified: true,
    });
    return id;
  }

  const count = async (bed: KakaoTestBed, sql: string, params: unknown[] = []) =>
    (await bed.t.db.query(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0].n as number;

  describe('warm cache: the keys were fetched by an earlier login', () => {
    let bed: KakaoTestBed;
    beforeAll(async () => {
      bed = await startWithKakao({ env: { KAKAO_HTTP_TIMEOUT_MS: '400' } });
      const first = await hybridLogin(bed, newKakaoUser(bed));
      expect(first.body.result).toBe('SIGNED_UP');
      expect(bed.kakao.callCount('GET', JWKS)).toBe(1);
    });
    afterAll(async () => {
      bed.kakao.clearFaults();
      await bed.close();
    });
    afterEach(() => bed.kakao.clearFaults());

    it.each([
      ['answers 500', { status: 500, body: { error: 'server_error' } }],
      ['hangs', { hang: true }],
    ])('JWKS %s: logins with id_tokens still verify from the cache', async (_name, fault) => {
      bed.kakao.injectFault({ path: JWKS, ...fault });
      const jwksCalls = bed.kakao.callCount('GET', JWKS);

      // Hybrid flow: Kakao's id_token (scope openid) is verified with the cached keys.
      const hybrid = await hybridLogin(bed, newKakaoUser(bed));
      expect([hybrid.status, hybrid.body.result]).toEqual([200, 'SIGNED_UP']);
      // Redirect flow, where the id_token is required and its nonce checked.
      const { callback } = await browserLogin(bed, { userId: newKakaoUser(bed) });
      expect(callback.status).toBe(200);
      expect((await json(callback)).result).toBe('SIGNED_UP');

      expect(bed.kakao.callCount('GET', JWKS)).toBe(jwksCalls);
    });
  });

  describe('cold cache: a fresh instance that never fetched the keys', () => {
    let bed: KakaoTestBed;
    beforeAll(async () => {
      bed = await startWithKakao({ env: { KAKAO_HTTP_TIMEOUT_MS: '400' } });
    });
    afterAll(async () => {
      bed.kakao.clearFaults();
      await bed.close();
    });

    const written = async () => ({
      members: await count(bed, 'members'),
      identities: await count(bed, 'member_identities'),
      kakaoTokens: await count(bed, 'kakao_tokens'),
      sessions: await count(bed, 'sessions'),
    });

    it('JWKS down: KAKAO_UNAVAILABLE (503 on a 5xx, 504 when it hangs), nothing written; up again: the next login works', async () => {
      const userId = newKakaoUser(bed);
      const before = await written();
      expect(bed.kakao.callCount('GET', JWKS)).toBe(0);

      bed.kakao.injectFault({ path: JWKS, status: 503, body: { error: 'server_error' } });
      const failing = await hybridLogin(bed, userId);
      expect([failing.status, failing.body.code]).toEqual([503, 'KAKAO_UNAVAILABLE']);
      expect(failing.body).toEqual(expect.objectContaining({ statusCode: 503, requestId: expect.any(String) }));
      const { callback } = await browserLogin(bed, { userId });
      expect(callback.status).toBe(503);
      expect((await json(callback)).code).toBe('KAKAO_UNAVAILABLE');
      bed.kakao.clearFaults();

      bed.kakao.injectFault({ path: JWKS, hang: true });
      const hanging = await hybridLogin(bed, userId);
      expect([hanging.status, hanging.body.code]).toEqual([504, 'KAKAO_UNAVAILABLE']);
      bed.kakao.clearFaults();

      expect(await written()).toEqual(before);
      expect(await count(bed, 'member_identities WHERE provider_user_id = $1', [userId])).toBe(0);

      // Kakao's keys are back: the same person's next login signs up, on the same running instance.
      const next = await hybridLogin(bed, userId);
      expect([next.status, next.body.result]).toEqual([200, 'SIGNED_UP']);
      expect(await count(bed, 'member_identities WHERE provider_user_id = $1', [userId])).toBe(1);
    });
  });
});
