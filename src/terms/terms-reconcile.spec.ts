import { answerPredates, KakaoTermAnswer, missingRequired, reconcileWithKakao, TermState } from './terms-reconcile';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-02-01T00:00:00Z');
const T2 = new Date('2026-03-01T00:00:00Z');

const held = (s: Partial<TermState>): TermState => ({
  agreed: true,
  agreedAt: T0,
  agreedBy: 'KAUTH',
  source: 'kakao_sync',
  kakaoAgreed: true,
  changedAt: T1,
  ...s,
});
const kakaoAgreed = (agreedAt: Date | null = T2): KakaoTermAnswer => ({
  tag: 'marketing',
  agreed: true,
  agreedAt,
  agreedBy: 'KAUTH',
});
const kakaoNot: KakaoTermAnswer = { tag: 'marketing', agreed: false, agreedAt: null, agreedBy: null };

describe('reconcileWithKakao (one test per row of the table in terms-reconcile.ts)', () => {
  it('nothing held, Kakao agreed: agreed through Kakao Sync with Kakao’s time and path', () => {
    expect(reconcileWithKakao(undefined, kakaoAgreed(T0))).toEqual({
      tag: 'marketing',
      agreed: true,
      agreedAt: T0,
      agreedBy: 'KAUTH',
      source: 'kakao_sync',
    });
  });

  it('nothing held, Kakao not agreed: recorded as declined there', () => {
    expect(reconcileWithKakao(undefined, kakaoNot)).toEqual({
      tag: 'marketing',
      agreed: false,
      agreedAt: null,
      agreedBy: null,
      source: 'kakao_sync',
    });
  });

  it('not agreed here before Kakao’s agreement: Kakao’s newer agreement is taken', () => {
    const change = reconcileWithKakao(held({ agreed: false, changedAt: T1 }), kakaoAgreed(T2));
    expect(change).toMatchObject({ agreed: true, agreedAt: T2, source: 'kakao_sync' });
  });

  it('revoked here after Kakao’s agreement: our newer revocation stands', () => {
    expect(reconcileWithKakao(held({ agreed: false, changedAt: T2 }), kakaoAgreed(T1))).toBeUndefined();
  });

  it('revoked here, Kakao agreed without a time: ours stands (cannot be ordered)', () => {
    expect(reconcileWithKakao(held({ agreed: false }), kakaoAgreed(null))).toBeUndefined();
  });

  it('agreed (either source), Kakao agreed: unchanged', () => {
    expect(reconcileWithKakao(held({ source: 'kakao_sync' }), kakaoAgreed())).toBeUndefined();
    expect(reconcileWithKakao(held({ source: 'service' }), kakaoAgreed())).toBeUndefined();
  });

  it('agreed through Kakao, Kakao no longer agreed: revoked through Kakao Sync', () => {
    expect(reconcileWithKakao(held({ source: 'kakao_sync' }), kakaoNot)).toEqual({
      tag: 'marketing',
      agreed: false,
      agreedAt: null,
      agreedBy: null,
      source: 'kakao_sync',
    });
  });

  it('agreed on the service’s pages, Kakao not agreed: the service’s record holds', () => {
    expect(reconcileWithKakao(held({ source: 'service', agreedBy: null }), kakaoNot)).toBeUndefined();
  });

  it('not agreed on either side: unchanged', () => {
    expect(reconcileWithKakao(held({ agreed: false }), kakaoNot)).toBeUndefined();
  });
});

describe('an answer Kakao gave before our last change of the tag (last row of the table)', () => {
  const readAt = (at: Date) => ({ readAt: at });

  it('agreed through Kakao, changed after the read: Kakao’s older "not agreed" revokes nothing', () => {
    expect(reconcileWithKakao(held({ source: 'kakao_sync', changedAt: T2 }), { ...kakaoNot, ...readAt(T1) })).toBe(
      undefined,
    );
  });

  it('a read at the very time of our change cannot be ordered after it: ours stands', () => {
    expect(reconcileWithKakao(held({ changedAt: T1 }), { ...kakaoNot, ...readAt(T1) })).toBeUndefined();
    expect(answerPredates(held({ changedAt: T1 }), { ...kakaoNot, ...readAt(T1) })).toBe(true);
  });

  it('revoked here after the read: Kakao’s older agreement is not taken either', () => {
    expect(reconcileWithKakao(held({ agreed: false, changedAt: T2 }), { ...kakaoAgreed(T0), ...readAt(T1) })).toBe(
      undefined,
    );
  });

  it('read after our change: the other rows decide, as without a read time', () => {
    expect(reconcileWithKakao(held({ changedAt: T1 }), { ...kakaoNot, ...readAt(T2) })).toMatchObject({
      agreed: false,
      source: 'kakao_sync',
    });
    expect(reconcileWithKakao(held({ changedAt: T1 }), { ...kakaoNot, readAt: null })).toMatchObject({ agreed: false });
    expect(answerPredates(held({ changedAt: T1 }), kakaoNot)).toBe(false);
  });

  it('nothing held: any answer is taken, however old', () => {
    expect(reconcileWithKakao(undefined, { ...kakaoNot, ...readAt(T0) })).toMatchObject({ agreed: false });
  });
});

describe('missingRequired', () => {
  const catalog = [
    { tag: 'service', required: true },
    { tag: 'marketing', required: false },
    { tag: 'privacy', required: true },
  ];

  it('lists the required tags not agreed, in catalog order, never optional ones', () => {
    expect(missingRequired(catalog, () => false)).toEqual(['service', 'privacy']);
    expect(missingRequired(catalog, (t) => t === 'service')).toEqual(['privacy']);
    expect(missingRequired(catalog, (t) => t !== 'marketing')).toEqual([]);
  });
});
