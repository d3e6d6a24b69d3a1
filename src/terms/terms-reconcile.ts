/**
 * How Kakao's answer for one service term (`/v2/user/service_terms`, KAKAO_API.md 6) changes what the
 * service knows. Pure, so every row of the table below is a unit test.
 *
 * | we hold                          | Kakao says                         | outcome                                   |
 * | -------------------------------- | ---------------------------------- | ----------------------------------------- |
 * | nothing                          | agreed                             | agreed (kakao_sync, Kakao's time and path) |
 * | nothing                          | not agreed                         | not agreed (kakao_sync): declined there   |
 * | not agreed, changed before       | agreed at T (T after our change)   | agreed (kakao_sync)                       |
 * | not agreed, changed after T      | agreed at T                        | unchanged: our revocation is newer        |
 * | agreed (either source)           | agreed                             | unchanged                                 |
 * | agreed through Kakao             | not agreed                         | revoked (kakao_sync): withdrawn at Kakao  |
 * | agreed on the service's pages    | not agreed                         | unchanged: the service's own record holds |
 * | not agreed                       | not agreed                         | unchanged                                 |
 * | anything, changed after the read | anything                           | unchanged: Kakao's answer is older        |
 *
 * The last row comes first: an answer read before our last change of the tag (a read sealed in a ticket, or a
 * login that read Kakao while another login recorded a newer answer) cannot know that change, so it never
 * undoes it. Without a read time (an answer from before reads were timed) the other rows decide.
 * In every row Kakao's answer is remembered (`kakaoAgreed`), so a later revocation knows whether Kakao has
 * to be told.
 */

export type TermSource = 'kakao_sync' | 'service';
export type AgreedBy = 'KAUTH' | 'KAPI';

/** A member's current state for one tag. */
export interface TermState {
  agreed: boolean;
  agreedAt: Date | null;
  agreedBy: AgreedBy | null;
  source: TermSource;
  kakaoAgreed: boolean | null;
  changedAt: Date;
}

/** Kakao's answer for one tag. */
export interface KakaoTermAnswer {
  tag: string;
  agreed: boolean;
  agreedAt: Date | null;
  agreedBy: AgreedBy | null;
  /** When Kakao was asked (our clock), when known. */
  readAt?: Date | null;
}

/** A new state to record (a history row and the current state). */
export interface TermChange {
  tag: string;
  agreed: boolean;
  agreedAt: Date | null;
  agreedBy: AgreedBy | null;
  source: TermSource;
}

export function reconcileWithKakao(held: TermState | undefined, kakao: KakaoTermAnswer): TermChange | undefined {
  const fromKakao: TermChange = {
    tag: kakao.tag,
    agreed: kakao.agreed,
    agreedAt: kakao.agreed ? kakao.agreedAt : null,
    agreedBy: kakao.agreed ? kakao.agreedBy : null,
    source: 'kakao_sync',
  };
  if (!held) return fromKakao;
  if (answerPredates(held, kakao)) return undefined;
  if (kakao.agreed) {
    if (held.agreed) return undefined;
    // Without a time from Kakao the agreement cannot be ordered against our revocation: ours stands.
    return kakao.agreedAt && kakao.agreedAt > held.changedAt ? fromKakao : undefined;
  }
  return held.agreed && held.source === 'kakao_sync' ? fromKakao : undefined;
}

/**
 * Kakao was asked no later than our last change of the tag, so its answer cannot reflect that change. A tie
 * counts as older: like an agreement without a time, what cannot be ordered does not override our record.
 * `changedAt` is the database's clock and `readAt` ours; a skew between them only widens or narrows the window
 * in which an answer is ignored until the next read.
 */
export function answerPredates(held: TermState, kakao: KakaoTermAnswer): boolean {
  return kakao.readAt != null && kakao.readAt.getTime() <= held.changedAt.getTime();
}

/** Required tags of the catalog that are not agreed, in catalog order. */
export function missingRequired(
  catalog: ReadonlyArray<{ tag: string; required: boolean }>,
  agreed: (tag: string) => boolean,
): string[] {
  return catalog.filter((t) => t.required && !agreed(t.tag)).map((t) => t.tag);
}
