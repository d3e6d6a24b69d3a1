import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { TokenCipher } from '../common/crypto/token-cipher';
import { AppException } from '../common/errors';
import { KakaoClient } from '../kakao/kakao.client';
import type { KakaoServiceTerm } from '../kakao/kakao.types';
import { QueueService } from '../queue/queue.service';
import { hashToken } from '../tokens/sessions.service';
import { Term, TermsCatalog } from './terms-catalog';
import {
  answerPredates,
  KakaoTermAnswer,
  missingRequired,
  reconcileWithKakao,
  TermChange,
  TermState,
} from './terms-reconcile';
import { TermHistoryEntry, TermsRepository } from './terms.repository';

/**
 * What reading Kakao's service terms gave: every term of the app with this user's agreement, or a failure.
 * `readAt` (epoch ms, so it survives a ticket's JSON) is when Kakao was asked: an answer older than our last
 * change of a tag does not change it (`answerPredates`).
 */
export type KakaoTermsRead = { ok: true; terms: KakaoServiceTerm[]; readAt?: number } | { ok: false; error?: unknown };

/** Thrown inside a login's transaction when a required term is missing: nothing of the login is kept. */
export class TermsMissing extends Error {
  constructor(
    readonly missing: string[],
    readonly memberId?: string,
  ) {
    super(`Required terms missing: ${missing.join(', ')}`);
  }
}

export interface MemberTermView extends Term {
  agreed: boolean;
  agreedAt: Date | null;
  agreedBy: 'KAUTH' | 'KAPI' | null;
  source: 'kakao_sync' | 'service' | null;
}

export interface MemberTermsView {
  terms: MemberTermView[];
  history: TermHistoryEntry[];
  syncedAt: Date | null;
  stale: boolean;
}

export const TERMS_SYNC_QUEUE = 'terms-sync';
/** A sync that failed at login is tried again in the background from this long after. */
const SYNC_RETRY_AFTER_SECONDS = 30;
export const TERMS_TICKET_TTL_SECONDS = 600;

type Target = { accessToken: string } | { userId: string };

/**
 * The user is no longer linked to the app at Kakao (-101, KAKAO_API.md 8; the unlink webhook may have been
 * missed), and Kakao's unlink took their service-terms agreements with it. A dormant account (-103) is not
 * that: Kakao keeps its agreements, so it stays a refusal. The client's error carries the kapi code, however it
 * maps it to our codes (`kakaoCode`, also in `details`).
 */
export function kakaoUnlinkedUser(error: unknown): boolean {
  if (!(error instanceof AppException)) return false;
  const fromDetails = (error.details as { kakaoCode?: unknown } | undefined)?.kakaoCode;
  const code = (error as AppException & { kakaoCode?: unknown }).kakaoCode ?? fromDetails;
  return code === -101;
}

const toAnswer = (t: KakaoServiceTerm, readAt?: number): KakaoTermAnswer => ({
  tag: t.tag,
  agreed: t.agreed === true,
  agreedAt: t.agreed_at ? new Date(t.agreed_at) : null,
  agreedBy: t.agreed_by === 'KAUTH' || t.agreed_by === 'KAPI' ? t.agreed_by : null,
  readAt: readAt === undefined ? null : new Date(readAt),
});

/**
 * Members' agreements to the service's terms: synced from Kakao Sync at every Kakao login, agreed on the
 * service's own pages, revoked (at Kakao too when Kakao holds the agreement), kept as an append-only history.
 */
@Injectable()
export class TermsService implements OnModuleInit {
  private readonly logger = new Logger(TermsService.name);

  constructor(
    private readonly catalog: TermsCatalog,
    private readonly repo: TermsRepository,
    private readonly kakao: KakaoClient,
    private readonly jobs: QueueService,
    private readonly cipher: TokenCipher,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    // `short`: one queued sync per member however many logins failed to read Kakao meanwhile.
    this.jobs.work<{ memberId: string }>(TERMS_SYNC_QUEUE, ({ memberId }) => this.syncInBackground(memberId), {
      policy: 'short',
    });
  }

  /** Every term of the app with this user's agreement; a failure is an answer too (the login goes on). */
  async readKakao(target: Target): Promise<KakaoTermsRead> {
    const readAt = Date.now();
    try {
      return { ok: true, terms: await this.kakao.getServiceTerms(target, { result: 'app_service_terms' }), readAt };
    } catch (error) {
      this.logger.warn(`Kakao service terms could not be read: ${(error as Error).message}`);
      return { ok: false, error };
    }
  }

  /**
   * Records what a login or a page learned, in the caller's transaction: agreements given on the service's
   * pages (`agreedTags`), then Kakao's answer, which never undoes a tag agreed in this very request. Returns the required tags still missing, and whether this
   * member's terms are tracked at all (a member who never agreed to anything through the service is not).
   */
  async settle(
    manager: EntityManager,
    memberId: string,
    input: { kakao?: KakaoTermsRead; agreedTags?: readonly string[]; requestId?: string; retryInBackground?: boolean },
  ): Promise<{ missing: string[]; tracked: boolean }> {
    const kakao = input.kakao;
    await this.repo.lockForChanges(manager, memberId, !kakao ? 'not-read' : kakao.ok ? 'read' : 'failed');
    const held = await this.repo.states(manager, memberId);
    const changes = new Map<string, TermChange & { kakaoAgreed: boolean | null }>();
    const now = new Date();
    const agreedNow = new Set(input.agreedTags);
    for (const tag of agreedNow) {
      if (held.get(tag)?.agreed || !this.catalog.get(tag)) continue;
      changes.set(tag, { tag, agreed: true, agreedAt: now, agreedBy: null, source: 'service', kakaoAgreed: null });
    }
    const seen: Array<{ tag: string; agreed: boolean }> = [];
    if (kakao?.ok) {
      for (const answer of kakao.terms.map((t) => toAnswer(t, kakao.readAt))) {
        if (!this.catalog.get(answer.tag)) continue;
        const pending = changes.get(answer.tag);
        if (pending) {
          // Agreed here just now: Kakao's answer is only remembered.
          pending.kakaoAgreed = answer.agreed;
          continue;
        }
        const current = held.get(answer.tag);
        if (current && answerPredates(current, answer)) continue;
        let change = reconcileWithKakao(current, answer);
        if (current && agreedNow.has(answer.tag)) {
          // Agreed in this request, and held agreed already: Kakao's answer never undoes it. An agreement only
          // Kakao vouched for, which Kakao no longer holds, rests on the person's word given here from now on.
          change =
            !answer.agreed && current.source === 'kakao_sync'
              ? { tag: answer.tag, agreed: true, agreedAt: now, agreedBy: null, source: 'service' }
              : undefined;
        }
        if (change) changes.set(answer.tag, { ...change, kakaoAgreed: answer.agreed });
        else if (current && current.kakaoAgreed !== answer.agreed)
          seen.push({ tag: answer.tag, agreed: answer.agreed });
      }
    } else if (kakao && input.retryInBackground !== false) {
      await this.jobs.send(
        TERMS_SYNC_QUEUE,
        { memberId },
        { manager, singletonKey: memberId, startAfter: SYNC_RETRY_AFTER_SECONDS },
      );
    }
    await this.repo.recordAgreements(manager, memberId, [...changes.values()], input.requestId);
    await this.repo.rememberKakao(manager, memberId, seen);
    const agreed = (tag: string) => changes.get(tag)?.agreed ?? held.get(tag)?.agreed ?? false;
    return { missing: missingRequired(this.catalog.all(), agreed), tracked: held.size > 0 || changes.size > 0 };
  }

  /** Checks the tags a person agreed to against the required ones they had to agree to. */
  checkAgreement(tags: readonly string[], mustInclude: readonly string[] = this.catalog.required().map((t) => t.tag)) {
    this.catalog.known(tags);
    const missing = mustInclude.filter((t) => !tags.includes(t));
    if (missing.length) {
      throw new AppException('VALIDATION_FAILED', `Required terms not agreed: ${missing.join(', ')}`, {
        missingTerms: missing,
      });
    }
  }

  /**
   * Tells Kakao about agreements given on the service's pages (`/v2/user/upgrade/service_terms`), for a
   * person who uses Kakao Sync. Best effort: the service's own record already holds; Kakao's answer is
   * remembered so a later revocation knows Kakao has to be told.
   */
  async upgradeAtKakao(target: Target, tags: readonly string[], memberId?: string): Promise<string[]> {
    if (!tags.length) return [];
    try {
      const agreed = (await this.kakao.upgradeServiceTerms(target, [...tags])).map((t) => t.tag);
      if (memberId) {
        await this.repo.rememberKakao(
          this.repo.manager,
          memberId,
          agreed.map((tag) => ({ tag, agreed: true })),
        );
      }
      return agreed;
    } catch (err) {
      this.logger.warn(`Kakao service terms upgrade failed: ${(err as Error).message}`);
      return [];
    }
  }

  /** `POST /members/me/terms`: agreements on the service's pages, also given at Kakao for a Kakao member. */
  async agreeOnPage(memberId: string, tags: string[], requestId?: string): Promise<MemberTermsView> {
    const known = this.catalog.known(tags);
    await this.repo.manager.transaction(async (manager) => {
      await this.settle(manager, memberId, { agreedTags: known, requestId });
      await this.audit.record({ type: 'terms.agreed', memberId, requestId, data: { tags: known.join(',') } }, manager);
    });
    const kakaoId = await this.repo.kakaoIdOf(memberId);
    if (kakaoId) await this.upgradeAtKakao({ userId: kakaoId }, known, memberId);
    return this.view(memberId);
  }

  /**
   * `DELETE /members/me/terms/{tag}`: only optional, revocable terms. When Kakao holds the agreement it is
   * revoked there first (`/v2/user/revoke/service_terms`); if Kakao refuses, nothing changes here either,
   * or the next sync would bring the agreement back. The user no longer linked at Kakao (see
   * `kakaoUnlinkedUser`) is not a refusal: its unlink already took the agreement, so the revocation is done.
   */
  async revoke(memberId: string, tag: string, requestId?: string): Promise<void> {
    const [term] = this.catalog.known([tag]).map((t) => this.catalog.get(t)!);
    if (term.required || !term.revocable) {
      throw new AppException('TERM_NOT_REVOCABLE', `${tag} is ${term.required ? 'required' : 'not revocable'}`);
    }
    const held = (await this.repo.states(this.repo.manager, memberId)).get(tag);
    if (!held?.agreed) return;
    const kakaoId = held.kakaoAgreed || held.source === 'kakao_sync' ? await this.repo.kakaoIdOf(memberId) : undefined;
    let atKakao: 'revoked' | 'not-linked' | undefined;
    if (kakaoId) {
      try {
        await this.kakao.revokeServiceTerms({ userId: kakaoId }, [tag]);
        atKakao = 'revoked';
      } catch (err) {
        if (!kakaoUnlinkedUser(err)) throw err;
        atKakao = 'not-linked';
      }
    }
    await this.repo.manager.transaction(async (manager) => {
      await this.repo.lockForChanges(manager, memberId, 'not-read');
      const now = (await this.repo.states(manager, memberId)).get(tag);
      if (!now?.agreed) return;
      await this.repo.recordAgreements(
        manager,
        memberId,
        [
          {
            tag,
            agreed: false,
            agreedAt: null,
            agreedBy: null,
            source: 'service',
            kakaoAgreed: kakaoId ? false : now.kakaoAgreed,
          },
        ],
        requestId,
      );
      await this.audit.record(
        {
          type: 'terms.revoked',
          memberId,
          requestId,
          data: { tag, atKakao: atKakao === 'revoked', kakaoNotLinked: atKakao === 'not-linked' },
        },
        manager,
      );
    });
  }

  /** `POST /members/me/terms/sync`: Kakao read again now (admin key); a failure marks the state stale. */
  async syncNow(memberId: string, requestId?: string): Promise<MemberTermsView> {
    const kakaoId = await this.repo.kakaoIdOf(memberId);
    if (kakaoId) {
      const read = await this.readKakao({ userId: kakaoId });
      await this.repo.manager.transaction((manager) => this.settleRead(manager, memberId, read, requestId));
      if (!read.ok && !kakaoUnlinkedUser(read.error)) throw read.error;
    }
    return this.view(memberId);
  }

  /**
   * A sync's read of Kakao, recorded. The user no longer linked at Kakao is an answer, not a failure: Kakao
   * holds no agreement for them any more, so the Kakao Sync consents lapse as with Kakao's unlink.
   */
  private async settleRead(
    manager: EntityManager,
    memberId: string,
    read: KakaoTermsRead,
    requestId?: string,
  ): Promise<void> {
    if (read.ok || !kakaoUnlinkedUser(read.error)) {
      await this.settle(manager, memberId, { kakao: read, requestId, retryInBackground: false });
      return;
    }
    await this.repo.lockForChanges(manager, memberId, 'read');
    const lapsed = await this.kakaoUnlinked(manager, memberId, requestId);
    if (lapsed.length) {
      await this.audit.record(
        { type: 'terms.revoked', memberId, requestId, data: { tags: lapsed.join(','), by: 'kakao_not_linked' } },
        manager,
      );
    }
  }

  async view(memberId: string): Promise<MemberTermsView> {
    const [held, history, sync] = await Promise.all([
      this.repo.states(this.repo.manager, memberId),
      this.repo.history(memberId),
      this.repo.syncState(memberId),
    ]);
    return {
      terms: this.catalog.all().map((t) => this.termView(t, held.get(t.tag))),
      history,
      ...sync,
    };
  }

  /** A one-time ticket (10 minutes) for a login waiting for required terms; `continuation` is sealed. */
  async issueTicket(
    input: { memberId?: string; missing: string[]; continuation: object },
    manager: EntityManager = this.repo.manager,
  ): Promise<string> {
    const ticket = randomBytes(32).toString('base64url');
    await this.repo.createTicket(manager, {
      ticketHash: hashToken(ticket),
      memberId: input.memberId ?? null,
      missing: input.missing,
      continuationSealed: this.cipher.encrypt(JSON.stringify(input.continuation), 'terms-ticket'),
      ttlSeconds: TERMS_TICKET_TTL_SECONDS,
    });
    return ticket;
  }

  /** A live ticket's content, not yet spent; see `spendTicket`. */
  async openTicket<T>(ticket: string): Promise<{ hash: Buffer; missing: string[]; continuation: T }> {
    const hash = /^[A-Za-z0-9_-]{43}$/.test(ticket) ? hashToken(ticket) : undefined;
    const found = hash && (await this.repo.findTicket(hash));
    if (!hash || !found) throw new AppException('TICKET_INVALID', 'The terms ticket is invalid, used or expired');
    return {
      hash,
      missing: found.missing,
      continuation: JSON.parse(this.cipher.decrypt(found.continuationSealed, 'terms-ticket')) as T,
    };
  }

  async spendTicket(manager: EntityManager, hash: Buffer): Promise<void> {
    if (!(await this.repo.spendTicket(manager, hash))) {
      throw new AppException('TICKET_INVALID', 'The terms ticket is invalid, used or expired');
    }
  }

  /**
   * Kakao unlinked the member's account (its webhook), and Kakao's unlink removes the consents and the
   * service terms agreed there (KAKAO_API.md 5). The optional, revocable consents given through Kakao Sync
   * (marketing, location) are Kakao-derived and lapse with it: recorded as Kakao answering "not agreed"
   * (source kakao_sync, history kept). Required terms stand: the person accepted the service's terms, and
   * keeping the account under them does not depend on Kakao; a member who wants out withdraws. What the member
   * agreed on the service's pages stands too. In the caller's transaction.
   */
  async kakaoUnlinked(manager: EntityManager, memberId: string, requestId?: string): Promise<string[]> {
    await this.repo.lockForChanges(manager, memberId, 'not-read');
    const held = await this.repo.states(manager, memberId);
    const changes: Array<TermChange & { kakaoAgreed: boolean | null }> = [];
    const forgotten: Array<{ tag: string; agreed: boolean }> = [];
    for (const [tag, state] of held) {
      const term = this.catalog.get(tag);
      if (!term || term.required || !term.revocable) continue;
      const change = reconcileWithKakao(state, { tag, agreed: false, agreedAt: null, agreedBy: null });
      if (change) changes.push({ ...change, kakaoAgreed: false });
      else if (state.kakaoAgreed) forgotten.push({ tag, agreed: false });
    }
    await this.repo.recordAgreements(manager, memberId, changes, requestId);
    await this.repo.rememberKakao(manager, memberId, forgotten);
    return changes.map((c) => c.tag);
  }

  /** Withdrawal: agreements and their history are deleted with the rest of the person's data. */
  async forgetMember(manager: EntityManager, memberId: string): Promise<void> {
    await this.repo.forgetMember(manager, memberId);
  }

  private termView(t: Term, held: TermState | undefined): MemberTermView {
    const agreed = held?.agreed ?? false;
    return {
      ...t,
      // As Kakao reports it: false also when the term is not agreed (KAKAO_API.md 6).
      revocable: t.revocable && agreed,
      agreed,
      agreedAt: agreed ? (held?.agreedAt ?? null) : null,
      agreedBy: agreed ? (held?.agreedBy ?? null) : null,
      source: held?.source ?? null,
    };
  }

  private async syncInBackground(memberId: string): Promise<void> {
    const kakaoId = await this.repo.kakaoIdOf(memberId);
    if (!kakaoId) return;
    const read = await this.readKakao({ userId: kakaoId });
    await this.repo.manager.transaction((manager) => this.settleRead(manager, memberId, read));
    // Thrown so the queue tries again with its backoff; an unlinked user will not change by retrying.
    if (!read.ok && !kakaoUnlinkedUser(read.error)) throw read.error;
  }
}
