import type { EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { TokenCipher } from '../common/crypto/token-cipher';
import { AppException } from '../common/errors';
import { KakaoApiError, type KakaoClient } from '../kakao/kakao.client';
import type { QueueService } from '../queue/queue.service';
import type { TermsCatalog } from './terms-catalog';
import type { TermChange, TermState } from './terms-reconcile';
import type { TermsRepository } from './terms.repository';
import { KakaoTermsRead, kakaoUnlinkedUser, TermsService } from './terms.service';

describe('kakaoUnlinkedUser: the user is no longer linked to the app at Kakao (KAKAO_API.md 8)', () => {
  it.each([
    ['a raw kapi -101 (not linked)', new KakaoApiError(400, -101, '/v2/user/service_terms')],
    ['-101 mapped for the person', new AppException('KAKAO_ACCESS_DENIED', 'not linked', { kakaoCode: -101 })],
  ])('%s: yes', (_case, error) => {
    expect(kakaoUnlinkedUser(error)).toBe(true);
  });

  it.each([
    // A dormant account keeps its agreements at Kakao.
    ['a raw kapi -103 (dormant)', new KakaoApiError(400, -103, '/v2/user/revoke/service_terms')],
    ['-103 mapped for the person', new AppException('KAKAO_ACCESS_DENIED', 'dormant', { kakaoCode: -103 })],
    ['Kakao failing (-1)', new KakaoApiError(400, -1, '/v2/user/service_terms')],
    ['the app without permission (-5)', new KakaoApiError(403, -5, '/v2/user/service_terms')],
    ['a 5xx without a code', new AppException('KAKAO_UNAVAILABLE', 'down', undefined, 503)],
    ['a restricted account (-4)', new AppException('KAKAO_ACCESS_DENIED', 'restricted', { kakaoCode: -4 })],
    ['not our exception', Object.assign(new Error('x'), { kakaoCode: -101 })],
    ['nothing', undefined],
  ])('%s: no', (_case, error) => {
    expect(kakaoUnlinkedUser(error)).toBe(false);
  });
});

describe('TermsService.settle: what a login records from the tags agreed and Kakao’s answer', () => {
  const CHANGED = new Date('2026-03-01T10:00:00Z');
  const BEFORE = CHANGED.getTime() - 60_000;
  const AFTER = CHANGED.getTime() + 60_000;
  const catalog = [
    { tag: 'privacy', title: 'P', url: 'https://example.com/p', required: true, revocable: false },
    { tag: 'marketing', title: 'M', url: 'https://example.com/m', required: false, revocable: true },
  ];
  const agreedThroughKakao: TermState = {
    agreed: true,
    agreedAt: new Date('2026-03-01T09:59:00Z'),
    agreedBy: 'KAUTH',
    source: 'kakao_sync',
    kakaoAgreed: true,
    changedAt: CHANGED,
  };
  const notAgreedAtKakao = (readAt?: number, tags = ['privacy']): KakaoTermsRead => ({
    ok: true,
    terms: tags.map((tag) => ({ tag, required: tag === 'privacy', agreed: false, revocable: false })),
    readAt,
  });

  /** A TermsService over a member holding `held`; what it records and remembers is collected. */
  function service(held: Record<string, TermState>) {
    const recorded: Array<TermChange & { kakaoAgreed: boolean | null }> = [];
    const remembered: Array<{ tag: string; agreed: boolean }> = [];
    const repo = {
      lockForChanges: async () => undefined,
      states: async () => new Map(Object.entries(held)),
      recordAgreements: async (_m: unknown, _id: string, changes: typeof recorded) => void recorded.push(...changes),
      rememberKakao: async (_m: unknown, _id: string, answers: typeof remembered) => void remembered.push(...answers),
    };
    const terms = {
      get: (tag: string) => catalog.find((t) => t.tag === tag),
      all: () => catalog,
    };
    const jobs = { send: async () => undefined };
    const svc = new TermsService(
      terms as unknown as TermsCatalog,
      repo as unknown as TermsRepository,
      {} as KakaoClient,
      jobs as unknown as QueueService,
      {} as TokenCipher,
      {} as AuditService,
    );
    const settle = (input: Parameters<TermsService['settle']>[2]) => svc.settle({} as EntityManager, 'member', input);
    return { settle, recorded, remembered };
  }

  it('Kakao’s fresh "not agreed" revokes an agreement given through Kakao (nothing posted)', async () => {
    const { settle, recorded } = service({ privacy: agreedThroughKakao });
    const { missing } = await settle({ kakao: notAgreedAtKakao(AFTER) });
    expect(recorded).toEqual([expect.objectContaining({ tag: 'privacy', agreed: false, source: 'kakao_sync' })]);
    expect(missing).toEqual(['privacy']);
  });

  it('an answer read before our last change (a ticket’s) changes nothing and is not remembered', async () => {
    const { settle, recorded, remembered } = service({ privacy: agreedThroughKakao });
    const { missing } = await settle({ kakao: notAgreedAtKakao(BEFORE) });
    expect(recorded).toEqual([]);
    expect(remembered).toEqual([]);
    expect(missing).toEqual([]);
  });

  it('a tag posted in the request ends agreed whatever Kakao says; Kakao’s agreement alone rests on it now', async () => {
    const { settle, recorded } = service({ privacy: agreedThroughKakao });
    const { missing } = await settle({ kakao: notAgreedAtKakao(AFTER), agreedTags: ['privacy'] });
    expect(recorded).toEqual([
      expect.objectContaining({ tag: 'privacy', agreed: true, source: 'service', agreedBy: null, kakaoAgreed: false }),
    ]);
    expect(missing).toEqual([]);
  });

  it('a tag posted and held agreed, Kakao agreeing too: no new history, as on the page', async () => {
    const { settle, recorded } = service({ privacy: agreedThroughKakao });
    const agreedAtKakao: KakaoTermsRead = {
      ok: true,
      terms: [{ tag: 'privacy', required: true, agreed: true, revocable: false, agreed_at: '2026-03-01T09:59:00Z' }],
      readAt: AFTER,
    };
    expect((await settle({ kakao: agreedAtKakao, agreedTags: ['privacy'] })).missing).toEqual([]);
    expect(recorded).toEqual([]);
  });

  it('a tag posted and not held: agreed on the service, Kakao’s answer only remembered', async () => {
    const { settle, recorded } = service({});
    await settle({ kakao: notAgreedAtKakao(AFTER, ['privacy', 'marketing']), agreedTags: ['privacy'] });
    expect(recorded).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tag: 'privacy', agreed: true, source: 'service', kakaoAgreed: false }),
        expect.objectContaining({ tag: 'marketing', agreed: false, source: 'kakao_sync' }),
      ]),
    );
  });
});
