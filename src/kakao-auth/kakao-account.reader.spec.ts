import type { KakaoClient } from '../kakao/kakao.client';
import type { KakaoUserRaw } from '../kakao/kakao.types';
import type { KakaoTermsRead, TermsService } from '../terms/terms.service';
import { KakaoAccountReader } from './kakao-account.reader';

/** A promise whose settling the test decides. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('KakaoAccountReader', () => {
  const user: KakaoUserRaw = { id: '9007199254740993', kakao_account: { email: 'a@example.com' } };
  const terms: KakaoTermsRead = {
    ok: true,
    terms: [{ tag: 'service_2026', required: true, agreed: true, revocable: false }],
  };

  function reader(
    getUser: () => Promise<KakaoUserRaw>,
    readKakao: () => Promise<KakaoTermsRead>,
    signupUser: () => Promise<void> = async () => undefined,
  ) {
    const calls: string[] = [];
    const kakao = {
      getUser: (t: string) => (calls.push(`user:${t}`), getUser()),
      signupUser: (t: string) => (calls.push(`signup:${t}`), signupUser()),
    } as unknown as KakaoClient;
    const termsService = {
      readKakao: (target: { accessToken: string }) => (calls.push(`terms:${target.accessToken}`), readKakao()),
    } as unknown as TermsService;
    return { reader: new KakaoAccountReader(kakao, termsService), calls };
  }

  it('asks Kakao for the terms before the user read has answered (one round trip, not two)', async () => {
    const pendingUser = deferred<KakaoUserRaw>();
    const { reader: r, calls } = reader(
      () => pendingUser.promise,
      async () => terms,
    );
    const read = r.read('access-1');
    await Promise.resolve();
    expect(calls).toEqual(['user:access-1', 'terms:access-1']);
    pendingUser.resolve(user);
    const account = await read;
    expect(account.profile.kakaoId).toBe('9007199254740993');
    expect(account.profile.email).toBe('a@example.com');
    expect(account.kakaoTerms).toBe(terms);
  });

  it('keeps the login going with a failed terms read', async () => {
    const failed: KakaoTermsRead = { ok: false, error: new Error('down') };
    const { reader: r } = reader(
      async () => user,
      async () => failed,
    );
    await expect(r.read('access-2')).resolves.toMatchObject({ profile: { kakaoId: user.id }, kakaoTerms: failed });
  });

  it('fails with the user read', async () => {
    const { reader: r } = reader(
      () => Promise.reject(new Error('KAKAO_UNAVAILABLE')),
      async () => terms,
    );
    await expect(r.read('access-3')).rejects.toThrow('KAKAO_UNAVAILABLE');
  });

  describe('a PREREGISTERED user (auto-link OFF)', () => {
    const preregistered: KakaoUserRaw = {
      id: user.id,
      has_signed_up: false,
      kakao_account: { email: 'a@example.com', is_email_valid: true, is_email_verified: true },
    };
    const registered: KakaoUserRaw = {
      ...preregistered,
      has_signed_up: true,
      kakao_account: { ...preregistered.kakao_account, name: '홍길동', name_needs_agreement: false },
    };

    it('is signed up at Kakao and read again, so the login decides on the whole user', async () => {
      const answers = [preregistered, registered];
      const { reader: r, calls } = reader(
        async () => answers.shift()!,
        async () => terms,
      );
      const account = await r.read('access-4');
      expect(calls).toEqual(['user:access-4', 'terms:access-4', 'signup:access-4', 'user:access-4']);
      expect(account.profile.name).toBe('홍길동');
      expect(account.profile.agreedItems).toContain('name');
      expect(account.kakaoTerms).toBe(terms);
    });

    it('is not signed up again once REGISTERED, nor when Kakao says nothing (auto-link ON)', async () => {
      for (const answer of [registered, user]) {
        const { reader: r, calls } = reader(
          async () => answer,
          async () => terms,
        );
        await r.read('access-5');
        expect(calls).toEqual(['user:access-5', 'terms:access-5']);
      }
    });

    it('fails the login when the signup fails, without reading the user again', async () => {
      const { reader: r, calls } = reader(
        async () => preregistered,
        async () => terms,
        () => Promise.reject(new Error('KAKAO_UNAVAILABLE')),
      );
      await expect(r.read('access-6')).rejects.toThrow('KAKAO_UNAVAILABLE');
      expect(calls).toEqual(['user:access-6', 'terms:access-6', 'signup:access-6']);
    });
  });
});
