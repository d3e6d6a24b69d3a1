import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { TokenCipher } from '../common/crypto/token-cipher';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { KakaoIdTokenVerifier } from '../kakao/kakao-id-token.verifier';
import { KakaoProfile, toKakaoProfile } from '../kakao/kakao-profile';
import { KakaoClient } from '../kakao/kakao.client';
import { KakaoTokenStore } from '../kakao/kakao-token.store';
import type { KakaoTokenResponse } from '../kakao/kakao.types';
import { LoginOutcomeDto, toLoginOutcomeDto } from '../members/dto/member.dto';
import type { LoginOutcome } from '../members/login-outcome';
import { decideKakaoLogin, maskEmail, maskName } from '../members/kakao-match';
import { MembersRepository } from '../members/members.repository';
import { MembersService } from '../members/members.service';
import { normalizeEmail, normalizeName } from '../common/normalize';
import { hashToken, SessionsService } from '../tokens/sessions.service';
import type { LoginIntent } from './login-transactions.repository';
import { LoginTransactionsRepository } from './login-transactions.repository';

export const TICKET_TTL_SECONDS = 60;
export const LINK_TICKET_TTL_SECONDS = 600;

export interface KakaoLoginInput {
  profile: KakaoProfile;
  tokens: KakaoTokenResponse;
  intent: LoginIntent;
  /** The signed-in member for `link` and `recertify`. */
  memberId?: string | null;
  /** The nonce the id_token must carry (the transaction's, or the hybrid/native caller's). */
  nonce?: string;
  /** Audiences the id_token may have (the REST API key; plus the extra app keys for native SDK tokens). */
  audiences?: string[];
  /** Whether an id_token must be present (it always is when we asked for `openid` ourselves). */
  requireIdToken: boolean;
  /** Where the front-end wants the person back (redirect flow), for follow-up URLs. */
  returnTo?: string | null;
  requestId?: string;
}

const linkConflict = (code: 'KAKAO_ALREADY_LINKED' | 'MEMBER_ALREADY_HAS_KAKAO') =>
  new AppException(
    code,
    code === 'KAKAO_ALREADY_LINKED'
      ? 'This Kakao account is linked to another member'
      : 'This member already has a Kakao account linked',
  );

/** Raised inside a transaction that lost a first-login race: the transaction is rolled back and retried. */
class LostFirstLoginRace extends Error {}

/**
 * Decides what a Kakao login means for the service (the `result` of API.md) and does it in one transaction:
 * the member and its Kakao identity, Kakao's tokens, the service's session, the audit trail.
 */
@Injectable()
export class KakaoLoginService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly members: MembersRepository,
    private readonly memberService: MembersService,
    private readonly sessions: SessionsService,
    private readonly idTokens: KakaoIdTokenVerifier,
    private readonly kakaoTokens: KakaoTokenStore,
    private readonly audit: AuditService,
    private readonly transactions: LoginTransactionsRepository,
    private readonly cipher: TokenCipher,
    private readonly kakao: KakaoClient,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async complete(input: KakaoLoginInput): Promise<LoginOutcome> {
    await this.checkIdToken(input);
    switch (input.intent) {
      case 'login':
        return this.login(input);
      case 'link':
        return this.link(input);
      case 'recertify':
        return this.recertify(input);
    }
  }

  /** The hybrid flow's first half: a code a front-end got from Kakao, exchanged and read. */
  async fromCode(input: {
    code: string;
    redirectUri: string;
    codeVerifier?: string;
  }): Promise<{ profile: KakaoProfile; tokens: KakaoTokenResponse }> {
    if (!this.config.allowedCodeRedirectUris.includes(input.redirectUri)) {
      throw new AppException('REDIRECT_URI_NOT_ALLOWED', 'This redirect URI is not accepted for code logins');
    }
    const tokens = await this.kakao.exchangeCode(input);
    return { profile: toKakaoProfile(await this.kakao.getUser(tokens.access_token)), tokens };
  }

  /** A one-time ticket that carries a finished login to the front-end without putting tokens in a URL. */
  async issueTicket(outcome: LoginOutcome): Promise<string> {
    const ticket = randomBytes(32).toString('base64url');
    const sealed = this.cipher.encrypt(JSON.stringify(toLoginOutcomeDto(outcome)), 'ticket');
    await this.transactions.createTicket(hashToken(ticket), sealed, TICKET_TTL_SECONDS);
    return ticket;
  }

  /** The LoginOutcome (already in its HTTP shape) of a ticket, once. */
  async exchangeTicket(ticket: string): Promise<LoginOutcomeDto> {
    const sealed = /^[A-Za-z0-9_-]{43}$/.test(ticket)
      ? await this.transactions.consumeTicket(hashToken(ticket))
      : undefined;
    if (!sealed) throw new AppException('TICKET_INVALID', 'The ticket is invalid, used or expired');
    return JSON.parse(this.cipher.decrypt(sealed, 'ticket')) as LoginOutcomeDto;
  }

  /** OIDC Core 3.1.3.7 through the verifier, plus: the id_token's subject is the user /v2/user/me returned. */
  private async checkIdToken(input: KakaoLoginInput): Promise<void> {
    const idToken = input.tokens.id_token;
    if (!idToken) {
      if (input.requireIdToken)
        throw new AppException('ID_TOKEN_INVALID', 'Kakao returned no id_token', { reason: 'missing' });
      return;
    }
    const claims = await this.idTokens.verify(idToken, { nonce: input.nonce, audiences: input.audiences });
    if (claims.sub !== input.profile.kakaoId) {
      throw new AppException('ID_TOKEN_INVALID', 'The Kakao id_token is not valid', { reason: 'sub' });
    }
  }

  private async login(input: KakaoLoginInput): Promise<LoginOutcome> {
    // Two first logins of one Kakao account race on the identity's unique key; the loser starts over and
    // finds the winner's member.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction((manager) => this.loginOnce(manager, input));
      } catch (err) {
        if (!(err instanceof LostFirstLoginRace) || attempt >= 3) throw err;
      }
    }
  }

  private async loginOnce(manager: EntityManager, input: KakaoLoginInput): Promise<LoginOutcome> {
    const { profile } = input;
    const linked = await this.members.findByKakaoId(profile.kakaoId, manager);
    const missingRequiredItems = this.config.kakao.requiredItems.filter((item) => !profile.agreedItems.includes(item));
    // Candidates only matter for a Kakao account with no live link and nothing missing: the usual login
    // (already linked) does not pay for the matching queries.
    const matching = (!linked || linked.status === 'withdrawn') && missingRequiredItems.length === 0;
    const sameEmail =
      matching && profile.email
        ? await this.members.findEmailCandidate(normalizeEmail(profile.email), manager)
        : undefined;
    const sameNameOnly =
      matching && !sameEmail && profile.name
        ? await this.members.findOnlyNameCandidate(normalizeName(profile.name), manager)
        : undefined;
    const decision = decideKakaoLogin({
      linked: linked && { memberId: linked.memberId, status: linked.status },
      missingRequiredItems,
      kakao: { email: profile.email, emailTrusted: profile.emailVerified, name: profile.name },
      sameEmail,
      sameNameOnly,
    });
    await this.audit.record(
      {
        type: 'member.kakao_decision',
        memberId: 'memberId' in decision ? decision.memberId : undefined,
        requestId: input.requestId,
        data: { decision: decision.kind },
      },
      manager,
    );
    switch (decision.kind) {
      case 'LOGGED_IN':
        await this.members.refreshKakaoProfile(manager, decision.memberId, profile);
        await this.kakaoTokens.save(manager, linked!.identityId, input.tokens);
        return this.signIn(manager, 'LOGGED_IN', decision.memberId, input, 'member.logged_in');
      case 'DEACTIVATED_MEMBER':
        await this.memberService.queueReactivation(manager, decision.memberId);
        return { result: 'DEACTIVATED_MEMBER' };
      case 'MANDATORY_ITEMS_NOT_AGREED':
        return {
          result: 'MANDATORY_ITEMS_NOT_AGREED',
          missingItems: decision.missingItems,
          consentUrl: this.consentUrl(decision.missingItems, input.returnTo),
        };
      case 'LINK_REQUIRED':
      case 'VERIFICATION_REQUIRED': {
        const candidate = await this.members.findById(decision.memberId, manager);
        const linkTicket = randomBytes(32).toString('base64url');
        await this.members.createLinkTicket(manager, {
          ticketHash: hashToken(linkTicket),
          memberId: decision.memberId,
          kind: decision.kind === 'LINK_REQUIRED' ? 'confirm' : 'verify',
          kakaoSealed: this.cipher.encrypt(JSON.stringify({ profile, tokens: input.tokens }), 'link-ticket'),
          ttlSeconds: LINK_TICKET_TTL_SECONDS,
        });
        return {
          result: decision.kind,
          linkTicket,
          candidate: {
            maskedEmail: maskEmail(candidate?.email ?? null),
            maskedName: maskName(candidate?.name ?? null),
          },
        };
      }
      case 'SIGNED_UP': {
        const memberId = await this.members.createFromKakao(manager, profile);
        const link = await this.members.linkKakao(manager, memberId, profile);
        if ('conflict' in link) throw new LostFirstLoginRace();
        await this.kakaoTokens.save(manager, link.identityId, input.tokens);
        return this.signIn(manager, 'SIGNED_UP', memberId, input, 'member.signed_up');
      }
    }
  }

  /**
   * Finishes a login that matched an existing member: `confirm` after LINK_REQUIRED; `proof` (the existing
   * account's email and password) after VERIFICATION_REQUIRED, or after LINK_REQUIRED as well.
   */
  async completeLink(
    linkTicket: string,
    proof?: { email: string; password: string },
    requestId?: string,
  ): Promise<LoginOutcome> {
    const ticketHash = /^[A-Za-z0-9_-]{43}$/.test(linkTicket) ? hashToken(linkTicket) : undefined;
    const ticket = ticketHash && (await this.members.findLinkTicket(ticketHash));
    if (!ticketHash || !ticket) throw new AppException('TICKET_INVALID', 'The link ticket is invalid, used or expired');
    if (proof) {
      if (!(await this.memberService.provePassword(ticket.memberId, proof.email, proof.password))) {
        throw new AppException('INVALID_CREDENTIALS', 'The email or the password is wrong');
      }
    } else if (ticket.kind !== 'confirm') {
      throw new AppException('TICKET_INVALID', 'This link needs the existing account to be proven with its password');
    }
    const { profile, tokens } = JSON.parse(this.cipher.decrypt(ticket.kakaoSealed, 'link-ticket')) as {
      profile: KakaoProfile;
      tokens: KakaoTokenResponse;
    };
    profile.connectedAt = profile.connectedAt ? new Date(profile.connectedAt) : null;
    return this.dataSource.transaction(async (manager) => {
      if (!(await this.members.spendLinkTicket(manager, ticketHash))) {
        throw new AppException('TICKET_INVALID', 'The link ticket is invalid, used or expired');
      }
      const link = await this.members.linkKakao(manager, ticket.memberId, profile);
      if ('conflict' in link) throw linkConflict(link.conflict);
      await this.members.refreshKakaoProfile(manager, ticket.memberId, profile);
      await this.kakaoTokens.save(manager, link.identityId, tokens);
      return this.signIn(
        manager,
        'LINKED',
        ticket.memberId,
        { profile, tokens, intent: 'link', requireIdToken: false, requestId },
        'member.kakao_linked',
      );
    });
  }

  /** Where the person agrees to the missing items: a new Kakao login asking exactly those (`scope=`). */
  private consentUrl(items: string[], returnTo?: string | null): string {
    const url = new URL('/auth/kakao/login', this.config.http.publicUrl);
    url.searchParams.set('scope', items.join(','));
    if (returnTo) url.searchParams.set('returnTo', returnTo);
    return url.toString();
  }

  private async link(input: KakaoLoginInput): Promise<LoginOutcome> {
    const memberId = this.requireMember(input);
    return this.dataSource.transaction(async (manager) => {
      const link = await this.members.linkKakao(manager, memberId, input.profile);
      if ('conflict' in link) throw linkConflict(link.conflict);
      await this.members.refreshKakaoProfile(manager, memberId, input.profile);
      await this.kakaoTokens.save(manager, link.identityId, input.tokens);
      return this.signIn(manager, 'LINKED', memberId, input, 'member.kakao_linked');
    });
  }

  /** Only the member's own Kakao account re-certifies them. */
  private async recertify(input: KakaoLoginInput): Promise<LoginOutcome> {
    const memberId = this.requireMember(input);
    return this.dataSource.transaction(async (manager) => {
      const identity = await this.members.findKakaoIdentity(memberId, manager);
      if (!identity || identity.kakaoId !== input.profile.kakaoId) {
        throw new AppException('FORBIDDEN', 'Re-certification needs the Kakao account linked to this member');
      }
      await this.members.refreshKakaoProfile(manager, memberId, input.profile);
      await this.kakaoTokens.save(manager, identity.identityId, input.tokens);
      return this.signIn(manager, 'RECERTIFIED', memberId, input, 'member.recertified');
    });
  }

  private requireMember(input: KakaoLoginInput): string {
    if (!input.memberId) throw new AppException('UNAUTHENTICATED', 'This Kakao login needs a signed-in member');
    return input.memberId;
  }

  private async signIn(
    manager: EntityManager,
    result: LoginOutcome['result'],
    memberId: string,
    input: KakaoLoginInput,
    event: 'member.logged_in' | 'member.signed_up' | 'member.kakao_linked' | 'member.recertified',
  ): Promise<LoginOutcome> {
    const tokens = await this.sessions.start(manager, { memberId, amr: 'kakao', requestId: input.requestId });
    await this.members.recordLogin(manager, memberId);
    await this.audit.record({ type: event, memberId, requestId: input.requestId, data: { method: 'kakao' } }, manager);
    const member = await this.members.findById(memberId, manager);
    return { result, tokens, member };
  }
}
