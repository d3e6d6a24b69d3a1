import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { KakaoClient } from '../kakao/kakao.client';
import { MailService } from '../mail/mail.service';
import { hashToken, SessionsService } from '../tokens/sessions.service';
import { normalizeEmail } from '../common/normalize';
import type { LoginOutcome } from './login-outcome';
import type { Member } from './member';
import { EmailTokenPurpose, MembersRepository } from './members.repository';
import { PasswordHasher } from './password-hasher';
import { TermsMissing, TermsService } from '../terms/terms.service';

const EMAIL_TOKEN_TTL: Record<EmailTokenPurpose, number> = {
  'email-verification': 24 * 3600,
  reactivation: 3600,
};

const RECENT_AUTH_MS = 5 * 60_000;

/**
 * Account changes a stolen session must not make (ASVS 3.7.1) need an authentication of the last 5 minutes:
 * withdrawal, and adding a way in (linking a Kakao account, which would outlive every session). A Kakao login
 * counts from Kakao's auth_time (one without an id_token, from the account's connection to the app: see
 * KakaoLoginService.sessionAuthTime). Unlinking is not gated: the member keeps their password, and it is what
 * someone who fears for their Kakao account does first. An unreadable time (NaN) fails closed.
 */
export function assertRecentAuthentication(authTime: Date, action: string): void {
  if (!(Date.now() - authTime.getTime() <= RECENT_AUTH_MS)) {
    throw new AppException(
      'RECERTIFICATION_REQUIRED',
      `Log in again (password or Kakao re-certification) within 5 minutes before ${action}`,
    );
  }
}

const invalidCredentials = () => new AppException('INVALID_CREDENTIALS', 'The email or the password is wrong');

/** Email members: sign-up, password login, email verification, deactivation and reactivation. */
@Injectable()
export class MembersService {
  constructor(
    private readonly members: MembersRepository,
    private readonly passwords: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly mail: MailService,
    private readonly audit: AuditService,
    private readonly kakao: KakaoClient,
    private readonly terms: TermsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Email sign-up. `agreedTags` are the terms agreed on the service's sign-up page; when given they must
   * include every required term. Without them the integrator keeps the consent record itself, and the
   * member's terms are not tracked until they agree through the service.
   */
  async signup(
    input: { email: string; password: string; name: string; agreedTags?: string[] },
    requestId?: string,
  ): Promise<LoginOutcome> {
    if (input.agreedTags) this.terms.checkAgreement(input.agreedTags);
    const passwordHash = await this.passwords.hash(input.password);
    return this.members.manager.transaction(async (manager) => {
      const id = await this.members.createWithPassword(manager, {
        email: input.email,
        emailNormalized: normalizeEmail(input.email),
        name: input.name,
        passwordHash,
      });
      if (!id) throw new AppException('EMAIL_TAKEN', 'A member with this email already exists');
      if (input.agreedTags) await this.terms.settle(manager, id, { agreedTags: input.agreedTags, requestId });
      await this.sendEmailToken(manager, id, input.email, input.name, 'email-verification');
      await this.audit.record(
        { type: 'member.signed_up', memberId: id, requestId, data: { method: 'password' } },
        manager,
      );
      const tokens = await this.sessions.start(manager, { memberId: id, amr: 'pwd', requestId });
      await this.members.recordLogin(manager, id);
      return { result: 'SIGNED_UP', tokens, member: await this.mustFind(id, manager) };
    });
  }

  /**
   * Password login. Every failure is the same INVALID_CREDENTIALS after the same amount of work (a hash is
   * verified even for an unknown email), so the answer does not tell which part was wrong.
   */
  async login(input: { email: string; password: string }, requestId?: string): Promise<LoginOutcome> {
    const credentials = await this.members.findCredentialsByEmail(normalizeEmail(input.email));
    const ok = await this.passwords.verify(credentials?.passwordHash, input.password);
    if (!credentials || !ok || credentials.status === 'withdrawn') {
      await this.audit.record({ type: 'member.login_failed', memberId: credentials?.id, requestId });
      throw invalidCredentials();
    }
    const memberId = credentials.id;
    if (credentials.status === 'deactivated') {
      await this.members.manager.transaction((manager) => this.queueReactivation(manager, memberId));
      return { result: 'DEACTIVATED_MEMBER' };
    }
    return this.passwordSignIn(memberId, requestId);
  }

  /**
   * Signs in a member whose password was proven, unless a required term is missing (for a member whose
   * terms are tracked): then TERMS_REQUIRED, finished at `POST /auth/terms/agree` with `agreedTags` and
   * `beforeSignIn` (which spends the terms ticket in the same transaction).
   */
  async passwordSignIn(
    memberId: string,
    requestId?: string,
    agreedTags?: string[],
    beforeSignIn?: (manager: EntityManager) => Promise<void>,
  ): Promise<LoginOutcome> {
    try {
      return await this.members.manager.transaction(async (manager) => {
        await beforeSignIn?.(manager);
        const { missing, tracked } = await this.terms.settle(manager, memberId, { agreedTags, requestId });
        if (tracked && missing.length) throw new TermsMissing(missing, memberId);
        const member = await this.mustFind(memberId, manager);
        if (member.status !== 'active') throw new AppException('TICKET_INVALID', 'This account cannot log in now');
        const tokens = await this.sessions.start(manager, { memberId, amr: 'pwd', requestId });
        await this.members.recordLogin(manager, memberId);
        await this.audit.record(
          { type: 'member.logged_in', memberId, requestId, data: { method: 'password' } },
          manager,
        );
        return { result: 'LOGGED_IN', tokens, member };
      });
    } catch (err) {
      if (!(err instanceof TermsMissing)) throw err;
      const termsTicket = await this.terms.issueTicket({
        memberId,
        missing: err.missing,
        continuation: { kind: 'password', memberId },
      });
      await this.audit.record({
        type: 'terms.required',
        memberId,
        requestId,
        data: { missing: err.missing.join(',') },
      });
      // No Kakao consent screen for a password login: the terms are agreed on the service's page.
      return { result: 'TERMS_REQUIRED', termsTicket, missingTerms: err.missing };
    }
  }

  /**
   * A reactivation mail for a deactivated member who tried to log in (password or Kakao). A member signed up
   * from Kakao without an email (KAKAO_REQUIRED_ITEMS without account_email) would have no way back: when
   * their own linked Kakao account now proves an address (`kakaoVerifiedEmail`), the mail goes there. With
   * no address at all, the attempt is audited so that an operator can reactivate them by hand.
   */
  async queueReactivation(manager: EntityManager, memberId: string, kakaoVerifiedEmail?: string): Promise<void> {
    const member = await this.mustFind(memberId, manager);
    const address = member.email ?? kakaoVerifiedEmail;
    if (address) {
      await this.sendEmailToken(manager, memberId, address, member.name, 'reactivation');
      return;
    }
    await this.audit.record({ type: 'member.reactivation_unreachable', memberId }, manager);
  }

  /**
   * Tells the member that a Kakao account now opens their account (ASVS 2.2.3: a new way in is announced, so a
   * link made with a stolen session does not go unseen). Only to a verified address: an unverified one may be
   * someone else's. In the caller's transaction, so it is sent only if the link commits.
   */
  async queueKakaoLinkedNotice(manager: EntityManager, memberId: string): Promise<void> {
    const member = await this.mustFind(memberId, manager);
    if (!member.email || !member.emailVerified) return;
    await this.mail.queue({ to: member.email, template: 'account-linked', vars: { name: member.name ?? '' } }, manager);
  }

  /**
   * Checks an email member's password without logging in (account proof for linking). A deactivated member
   * can be proven too: the link then answers DEACTIVATED_MEMBER, as a password login would.
   */
  async provePassword(memberId: string, email: string, password: string): Promise<boolean> {
    const credentials = await this.members.findCredentialsByEmail(normalizeEmail(email));
    const ok = await this.passwords.verify(credentials?.passwordHash, password);
    return ok && credentials?.id === memberId && credentials.status !== 'withdrawn';
  }

  async verifyEmail(token: string, requestId?: string): Promise<void> {
    await this.members.manager.transaction(async (manager) => {
      const memberId = await this.members.useEmailToken(manager, 'email-verification', hashToken(token));
      if (!memberId) throw new AppException('TICKET_INVALID', 'The verification link is invalid, used or expired');
      await this.members.markEmailVerified(manager, memberId);
      await this.audit.record({ type: 'member.email_verified', memberId, requestId }, manager);
    });
  }

  async reactivate(token: string, requestId?: string): Promise<LoginOutcome> {
    return this.members.manager.transaction(async (manager) => {
      const memberId = await this.members.useEmailToken(manager, 'reactivation', hashToken(token));
      if (!memberId || !(await this.members.setStatus(manager, memberId, 'deactivated', 'active'))) {
        throw new AppException('TICKET_INVALID', 'The reactivation link is invalid, used or expired');
      }
      await this.audit.record({ type: 'member.reactivated', memberId, requestId }, manager);
      const tokens = await this.sessions.start(manager, { memberId, amr: 'pwd', requestId });
      await this.members.recordLogin(manager, memberId);
      return { result: 'LOGGED_IN', tokens, member: await this.mustFind(memberId, manager) };
    });
  }

  /** Deactivates (dormant account): every session ends; the next login asks for reactivation by mail. */
  async deactivate(memberId: string): Promise<boolean> {
    return this.members.manager.transaction(async (manager) => {
      if (!(await this.members.setStatus(manager, memberId, 'active', 'deactivated'))) return false;
      await this.sessions.revokeAllOfMember(manager, memberId, 'deactivated');
      await this.audit.record({ type: 'member.deactivated', memberId }, manager);
      return true;
    });
  }

  /**
   * Unlink from "my page": Kakao first (admin key; -101 "not linked" counts as done), then the identity,
   * Kakao's tokens and the Kakao-derived profile. Refused when Kakao is the only way in.
   */
  async unlinkKakao(memberId: string, requestId?: string): Promise<void> {
    const member = await this.mustFind(memberId);
    const identity = member.identities.find((i) => i.provider === 'kakao');
    if (!identity) throw new AppException('NOT_FOUND', 'No Kakao account is linked');
    if (!member.hasPassword) {
      throw new AppException(
        'LAST_LOGIN_METHOD',
        'Kakao is the only way to log in to this account; set a password or withdraw instead',
      );
    }
    await this.kakao.unlink({ userId: identity.providerUserId });
    await this.members.manager.transaction((manager) =>
      this.dropKakaoLink(manager, memberId, { requestId, data: { by: 'member' } }),
    );
  }

  /**
   * Withdrawal (needs an authentication within the last 5 minutes): Kakao unlink, every session revoked and
   * personal data deleted in one transaction; the Kakao account can then sign up anew.
   */
  async withdraw(memberId: string, authTime: Date, requestId?: string): Promise<void> {
    assertRecentAuthentication(authTime, 'withdrawing');
    const member = await this.mustFind(memberId);
    const identity = member.identities.find((i) => i.provider === 'kakao');
    if (identity) await this.kakao.unlink({ userId: identity.providerUserId });
    await this.members.manager.transaction((manager) =>
      this.erase(manager, member, { requestId, data: { kakaoUnlinked: Boolean(identity), by: 'member' } }),
    );
  }

  /**
   * Kakao told us the account was unlinked (unlink webhook, `user-unlinked` event): Kakao has already cut
   * the link, so it is not called again. Under UNLINK_WEBHOOK_POLICY `withdraw` a member with another way in
   * keeps the account without Kakao; a Kakao-only member (or every member under `withdraw-all`) is withdrawn
   * as by DELETE /members/me. Every session ends either way. In the caller's transaction.
   */
  async applyKakaoUnlink(
    manager: EntityManager,
    memberId: string,
    context: { reason: string; requestId?: string },
  ): Promise<'withdrawn' | 'unlinked'> {
    const member = await this.mustFind(memberId, manager);
    if (this.config.unlinkWebhookPolicy === 'withdraw-all' || !member.hasPassword) {
      await this.erase(manager, member, {
        requestId: context.requestId,
        data: { kakaoUnlinked: true, by: 'kakao', reason: context.reason },
      });
      return 'withdrawn';
    }
    await this.sessions.revokeAllOfMember(manager, memberId, 'kakao_unlinked');
    await this.dropKakaoLink(manager, memberId, {
      requestId: context.requestId,
      data: { by: 'kakao', reason: context.reason },
    });
    return 'unlinked';
  }

  /**
   * The member keeps the account without Kakao: the identity, Kakao's tokens and the Kakao-derived profile go,
   * and so do the optional consents given through Kakao Sync, which Kakao's unlink took (KAKAO_API.md 5);
   * required terms stand. In the caller's transaction.
   */
  private async dropKakaoLink(
    manager: EntityManager,
    memberId: string,
    context: { requestId?: string; data: Record<string, string> },
  ): Promise<void> {
    await this.members.unlinkKakao(manager, memberId);
    const termsRevoked = await this.terms.kakaoUnlinked(manager, memberId, context.requestId);
    await this.audit.record(
      {
        type: 'member.kakao_unlinked',
        memberId,
        requestId: context.requestId,
        data: { ...context.data, termsRevoked: termsRevoked.join(',') },
      },
      manager,
    );
  }

  /** Everything personal goes in one transaction; a tombstone remains for the audit trail. */
  private async erase(
    manager: EntityManager,
    member: Member,
    context: { requestId?: string; data: Record<string, string | boolean> },
  ): Promise<void> {
    if (member.email) {
      await this.mail.queue({ to: member.email, template: 'withdrawal-complete', vars: {} }, manager);
    }
    await this.sessions.revokeAllOfMember(manager, member.id, 'withdrawn');
    await this.terms.forgetMember(manager, member.id);
    await this.members.anonymize(manager, member.id);
    await this.audit.record(
      { type: 'member.withdrawn', memberId: member.id, requestId: context.requestId, data: context.data },
      manager,
    );
  }

  async get(id: string): Promise<Member> {
    return this.mustFind(id);
  }

  private async mustFind(id: string, manager?: EntityManager): Promise<Member> {
    const member = await this.members.findById(id, manager);
    if (!member) throw new AppException('NOT_FOUND', 'No such member');
    return member;
  }

  /** A one-time token mailed as a link; queued in the caller's transaction so it is sent only if that commits. */
  private async sendEmailToken(
    manager: EntityManager,
    memberId: string,
    email: string,
    name: string | null,
    purpose: EmailTokenPurpose,
  ): Promise<void> {
    const token = randomBytes(32).toString('base64url');
    await this.members.createEmailToken(manager, memberId, purpose, hashToken(token), EMAIL_TOKEN_TTL[purpose]);
    await this.mail.queue(
      { to: email, template: purpose, vars: { name: name ?? '', link: this.frontendLink(purpose, token) } },
      manager,
    );
  }

  /**
   * Links in mails open the front-end (the first ALLOWED_RETURN_URLS entry, or the demo page), which posts
   * the token back. The token travels in the fragment so it never reaches a server log or a Referer.
   */
  private frontendLink(purpose: EmailTokenPurpose, token: string): string {
    const base = this.config.allowedReturnUrls[0] ?? `${this.config.http.publicUrl}/demo`;
    const url = new URL(base);
    url.hash = `${purpose}-token=${token}`;
    return url.toString();
  }
}
