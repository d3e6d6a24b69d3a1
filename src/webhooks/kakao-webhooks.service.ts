import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AppConfig } from '../config/app-config';
import { ConcurrencyLimit } from '../common/concurrency-limit';
import { storableText } from '../common/text';
import { InjectConfig } from '../config/config.module';
import type { SecurityEventClaims } from '../kakao/kakao-id-token.verifier';
import { KakaoTokenStore } from '../kakao/kakao-token.store';
import { KakaoUnlinks } from '../kakao/kakao-unlinks';
import { MembersRepository } from '../members/members.repository';
import { MembersService } from '../members/members.service';
import { MetricsService } from '../metrics/metrics.service';
import { loggableError } from '../logging/logging';
import { InstanceLoad } from '../queue/instance-load';
import { QueueService } from '../queue/queue.service';
import { SessionsService } from '../tokens/sessions.service';
import {
  accountEventAction,
  callAppliesToLink,
  InvalidUnlinkCall,
  UnlinkCall,
  unlinkDedupeKey,
} from './kakao-webhook-events';
import { InboxEntry, SettledEntry, WebhookInboxRepository } from './webhook-inbox.repository';

export const WEBHOOK_QUEUE = 'kakao-webhook';
/**
 * Kakao wants an answer within 3 s (KAKAO_API.md 7). If the inbox write has not committed by then (a
 * database under stress), the call is answered anyway and the write goes on; it is logged either way.
 */
const ANSWER_DEADLINE_MS = 2_000;
/** Retries of a write already answered for: from 1 s, doubling, at most a minute apart. */
const LATE_WRITE_RETRY_MS = { first: 1_000, max: 60_000 };
/**
 * Share of the request pool's connections that inbox writes may hold at once. In a burst (1,000 calls/s in
 * the bench's storm) every connection went to webhook transactions, each waiting on a saturated database,
 * and GET /members/me queued behind them. A write is five round trips, so the slots also cap the calls
 * taken per second: three of ten held scenario 5 to ~370/s (0.72× the baseline); six of ten leave four
 * connections to everything else and took 0.86–1.07× the baseline's rate in the full bench runs. While the
 * database is saturated by other requests too (the storm) they take 0.34–0.60× what a bare server takes
 * (bench/README.md, Findings, the storm): the price of keeping four connections for everything else.
 */
const WEBHOOK_WRITE_POOL_SHARE = 0.6;

export type Receipt = 'accepted' | 'duplicate' | 'wrong_app' | 'invalid' | 'pending';

/**
 * Kakao's webhooks: every authenticated call goes into the durable inbox (with its queue job, in one
 * transaction) before it is answered; a job then applies it once, whichever instance runs it.
 */
@Injectable()
export class KakaoWebhooksService implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(KakaoWebhooksService.name);
  private readonly calls: Counter<'type' | 'result'>;
  private readonly processed: Counter<'event' | 'outcome'>;
  private stopping = false;
  private readonly writeSlots: ConcurrencyLimit;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly inbox: WebhookInboxRepository,
    private readonly jobs: QueueService,
    private readonly members: MembersRepository,
    private readonly memberService: MembersService,
    private readonly sessions: SessionsService,
    private readonly kakaoTokens: KakaoTokenStore,
    private readonly audit: AuditService,
    private readonly unlinks: KakaoUnlinks,
    metrics: MetricsService,
    @InjectConfig() private readonly config: AppConfig,
    load: InstanceLoad,
  ) {
    this.writeSlots = new ConcurrencyLimit(Math.max(1, Math.floor(config.db.poolSize * WEBHOOK_WRITE_POOL_SHARE)));
    // Calls waiting for a slot are requests waiting for the database: the jobs applying them give way.
    load.countWaiting(() => this.writeSlots.queued);
    this.calls = new Counter({
      name: 'kakao_webhook_calls_total',
      help: 'Kakao webhook calls by type (unlink, account_event) and result (accepted, duplicate, wrong_app, unauthorized, invalid, pending)',
      labelNames: ['type', 'result'] as const,
      registers: [metrics.registry],
    });
    this.processed = new Counter({
      name: 'kakao_webhook_events_processed_total',
      help: 'Processed Kakao webhook calls by event and outcome',
      labelNames: ['event', 'outcome'] as const,
      registers: [metrics.registry],
    });
    const repository = this.inbox;
    new Gauge({
      name: 'kakao_webhook_inbox_backlog',
      help: 'Kakao webhook calls received and not processed yet',
      registers: [metrics.registry],
      async collect() {
        this.set(await repository.backlog().catch(() => -1));
      },
    });
  }

  onModuleInit(): void {
    // `short`: one queued job per inbox row, however often it is re-queued.
    this.jobs.work<{ inboxId: string }>(WEBHOOK_QUEUE, ({ inboxId }) => this.process(inboxId), { policy: 'short' });
  }

  onApplicationBootstrap(): void {
    // Calls written but never processed (their jobs failed for good, or the queue lost them) get a job again.
    void this.jobs.started
      .then(async () => {
        for (const inboxId of await this.inbox.pendingIds()) {
          await this.jobs.send(WEBHOOK_QUEUE, { inboxId }, { singletonKey: inboxId });
        }
      })
      .catch((err: Error) => this.logger.error(`Re-queueing pending webhook calls failed: ${err.message}`));
  }

  count(type: 'unlink' | 'account_event', result: string): void {
    this.calls.inc({ type, result });
  }

  /** The unlink webhook (KAKAO_API.md 7.1), already authenticated. */
  async receiveUnlink(call: UnlinkCall): Promise<Receipt> {
    const hash = this.userHash(call.userId);
    // Made once: a retried write of this call (keepWriting) must find its own row, not add a second.
    const dedupeKey = unlinkDedupeKey();
    if (call.appId !== null && call.appId !== this.config.kakao.appId) {
      // Kakao asks for 200 on every authenticated call; a foreign app id changes nothing here.
      this.logger.warn(`Unlink webhook for app ${call.appId} ignored: this service is app ${this.config.kakao.appId}`);
      const settled: SettledEntry = {
        kind: 'unlink',
        dedupeKey,
        event: 'unlink',
        reason: call.referrerType,
        kakaoUserHash: hash,
        occurredAt: null,
        outcome: 'ignored',
      };
      const receipt = await this.withinDeadline(() =>
        this.writeSettled(settled, { kind: 'unlink', appId: call.appId ?? '' }, 'wrong_app'),
      );
      this.count('unlink', receipt);
      return receipt;
    }
    const now = new Date();
    const entry: InboxEntry = {
      kind: 'unlink',
      dedupeKey,
      event: 'unlink',
      reason: call.referrerType,
      kakaoUserId: call.userId,
      kakaoUserHash: hash,
      occurredAt: null,
    };
    const receipt = await this.withinDeadline(() => this.write([entry], [{ hash, at: now }]));
    this.count('unlink', receipt);
    return receipt;
  }

  /**
   * An authenticated unlink call that names no user we could act on (a malformed id, an unreadable body):
   * Kakao still gets its 200 (KAKAO_API.md 7.1: always), and the call is kept, settled as invalid, for the
   * operator. Kakao does not send it again, so there is nothing more to do with it.
   */
  async receiveInvalidUnlink(call: InvalidUnlinkCall): Promise<Receipt> {
    this.logger.warn(`Unlink webhook call recorded as invalid: ${call.problems.join('; ')}`);
    const settled: SettledEntry = {
      kind: 'unlink',
      dedupeKey: unlinkDedupeKey(),
      event: 'unlink',
      reason: call.referrerType,
      kakaoUserHash: this.userHash(call.userId ?? ''),
      occurredAt: null,
      outcome: 'invalid',
    };
    const receipt = await this.withinDeadline(() =>
      this.writeSettled(settled, { kind: 'unlink', problems: call.problems.join('; ') }, 'invalid'),
    );
    this.count('unlink', receipt);
    return receipt;
  }

  /** A verified Security Event Token of the account status webhook (KAKAO_API.md 7.2). */
  async receiveAccountEvent(claims: SecurityEventClaims): Promise<Receipt> {
    const entries: InboxEntry[] = [];
    const unlinks: Array<{ hash: Buffer; at: Date }> = [];
    const occurredAt = typeof claims.toe === 'number' ? new Date(claims.toe * 1000) : null;
    for (const [type, body] of Object.entries(claims.events)) {
      const subject = (body?.subject ?? {}) as { sub?: unknown };
      const userId = typeof subject.sub === 'string' ? subject.sub : claims.sub;
      if (typeof userId !== 'string' || !/^\d{1,20}$/.test(userId)) continue;
      const { name, action } = accountEventAction(type);
      const hash = this.userHash(userId);
      entries.push({
        kind: 'account_event',
        dedupeKey: `set:${storableText(claims.jti)}:${name}`,
        event: name,
        reason: typeof body?.reason === 'string' ? storableText(body.reason).slice(0, 100) : null,
        kakaoUserId: userId,
        kakaoUserHash: hash,
        occurredAt,
      });
      if (action === 'unlink') unlinks.push({ hash, at: new Date() });
    }
    const receipt = entries.length ? await this.withinDeadline(() => this.write(entries, unlinks)) : 'duplicate';
    this.count('account_event', receipt);
    return receipt;
  }

  /** Applies one call, once: the row lock makes a second job (or instance) wait, then find it done. */
  async process(inboxId: string): Promise<void> {
    const done = await this.dataSource.transaction(async (manager) => {
      const call = await this.inbox.lockPending(manager, inboxId);
      if (!call) return undefined;
      // A login of this Kakao account in flight finishes first (or waits): see KakaoUnlinks.lockAccount.
      if (call.kakaoUserId) await this.unlinks.lockAccount(manager, call.kakaoUserId);
      const action = call.kind === 'unlink' ? 'unlink' : accountEventAction(call.event).action;
      const linked = call.kakaoUserId ? await this.members.findKakaoLink(call.kakaoUserId, manager) : undefined;
      let outcome: string;
      if (!linked || linked.status === 'withdrawn') {
        outcome = 'unknown_user';
      } else if (!callAppliesToLink(linked.linkedAt, call.receivedAt)) {
        // The person linked again after this call (a new sign-up after an unlink): the call was about the
        // link before, which is gone; a late or repeated call must not cut the new one.
        outcome = 'link_newer_than_call';
      } else if (action === 'unlink') {
        outcome = await this.memberService.applyKakaoUnlink(manager, linked.memberId, {
          reason: call.reason ?? call.event,
        });
      } else if (action === 'revoke') {
        await this.sessions.revokeAllOfMember(manager, linked.memberId, `kakao_${call.event}`);
        await this.kakaoTokens.delete(manager, linked.identityId);
        outcome = 'sessions_revoked';
      } else if (action === 'drop_kakao_token') {
        await this.kakaoTokens.delete(manager, linked.identityId);
        outcome = 'kakao_token_dropped';
      } else {
        // The profile is read again at every Kakao login; nothing to do before then.
        outcome = action === 'refresh_profile' ? 'profile_refresh_at_next_login' : 'recorded';
      }
      await this.inbox.markProcessed(manager, inboxId, outcome);
      await this.audit.record(
        {
          type: 'webhook.processed',
          memberId: linked?.memberId,
          data: { kind: call.kind, event: call.event, reason: call.reason, outcome, inboxId },
        },
        manager,
      );
      return { event: call.event, outcome };
    });
    if (done) this.processed.inc(done);
  }

  private userHash(kakaoUserId: string): Buffer {
    return this.unlinks.userHash(kakaoUserId);
  }

  /** The inbox rows, the unlink marks and the jobs, in one transaction (holding one of the write slots). */
  private write(entries: InboxEntry[], unlinks: Array<{ hash: Buffer; at: Date }>): Promise<Receipt> {
    return this.writeSlots.run(() =>
      this.dataSource.transaction(async (manager) => {
        let added = 0;
        for (const entry of entries) {
          const inboxId = await this.inbox.add(manager, entry);
          if (!inboxId) continue;
          added++;
          await this.jobs.send(WEBHOOK_QUEUE, { inboxId }, { manager, singletonKey: inboxId });
        }
        if (added) for (const u of unlinks) await this.unlinks.mark(manager, u.hash, u.at);
        return added ? 'accepted' : 'duplicate';
      }),
    );
  }

  /** A settled call and its audit record, in one transaction (holding one of the write slots). */
  private writeSettled(
    entry: SettledEntry,
    audit: Record<string, string>,
    receipt: 'wrong_app' | 'invalid',
  ): Promise<Receipt> {
    return this.writeSlots.run(() =>
      this.dataSource.transaction(async (manager) => {
        if (!(await this.inbox.addSettled(manager, entry))) return 'duplicate';
        await this.audit.record({ type: 'webhook.ignored', data: { ...audit, outcome: entry.outcome } }, manager);
        return receipt;
      }),
    );
  }

  /**
   * Kakao wants 200 within 3 s for every call, "including when processing fails internally", and does not
   * send a call twice (KAKAO_API.md 7.1): a write that is slow (past the deadline) or fails (the database is
   * down) is answered 200 all the same and goes on in the background until it commits.
   */
  private async withinDeadline(write: () => Promise<Receipt>): Promise<Receipt> {
    const first = write();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'pending'>((resolve) => {
      timer = setTimeout(() => resolve('pending'), ANSWER_DEADLINE_MS);
    });
    try {
      const receipt = await Promise.race([first, late]);
      if (receipt === 'pending') {
        this.logger.warn('Webhook call answered before its inbox write committed (slow database)');
        void this.keepWriting(first, write);
      }
      return receipt;
    } catch (err) {
      this.logger.warn({ err: loggableError(err) }, 'Webhook call answered before its inbox write could commit');
      void this.keepWriting(first, write);
      return 'pending';
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A call already answered 200 must still be stored: Kakao will not send it again (KAKAO_API.md 7.1), so a
   * write that fails (the database went away meanwhile) is tried again until it commits. The write is
   * idempotent (dedupe key), so a retry after a commit whose acknowledgement was lost does nothing.
   */
  private async keepWriting(attempt: Promise<Receipt>, write: () => Promise<Receipt>): Promise<void> {
    for (let delay = LATE_WRITE_RETRY_MS.first; ; delay = Math.min(delay * 2, LATE_WRITE_RETRY_MS.max)) {
      try {
        await attempt;
        this.logger.log('The delayed webhook inbox write committed');
        return;
      } catch (err) {
        if (this.stopping) {
          this.logger.error(`A webhook call was answered but could not be stored: ${(err as Error).message}`);
          return;
        }
        this.logger.warn(
          `A webhook call answered but not stored yet, retrying in ${delay} ms: ${(err as Error).message}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      attempt = write();
    }
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }
}
