import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { TokenCipher } from '../common/crypto/token-cipher';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { KakaoIdTokenVerifier } from '../kakao/kakao-id-token.verifier';
import { KakaoProfile } from '../kakao/kakao-profile';
import { KakaoClient } from '../kakao/kakao.client';
import { KakaoTokenStore } from '../kakao/kakao-token.store';
import { KakaoUnlinks } from '../kakao/kakao-unlinks';
import type { KakaoIdTokenClaims, KakaoTokenResponse } from '../kakao/kakao.types';
import { LoginOutcomeDto, toLoginOutcomeDto } from '../members/dto/member.dto';
import type { LoginOutcome } from '../members/login-outcome';
import { decideKakaoLogin, maskEmail, maskName } from '../members/kakao-match';
import { MembersRepository } from '../members/members.repository';
import { assertRecentAuthentication, MembersService } from '../members/members.service';
import { normalizeEmail, normalizeName } from '../common/normalize';
import { hashToken, SessionsService } from '../tokens/sessions.service';
import type { LoginIntent } from './login-transactions.repository';
import { LoginTransactionsRepository } from './login-transactions.repository';
import { KakaoAccount, KakaoAccountReader } from './kakao-account.reader';
import { KakaoPassport } from './kakao-passport';
import { KakaoTermsRead, TermsMissing, TermsService } from '../terms/terms.service';

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
  /** Kakao's answer on the service terms; read in `complete` when not given. */
  kakaoTerms?: KakaoTermsRead;
  /** Terms the person agreed to on the service's own page (after TERMS_REQUIRED). */
  agreedTags?: string[];
  /** When the person authenticated at Kakao (the id_token's auth_time), when known. */
  kakaoAuthTime?: number;
  /** When the login transaction began (redirect flow): a re-certification must authenticate after it. */
  transactionCreatedAt?: Date;
  /** False when the member is signed in already and gets no tokens back (link from my page). */
  startSession?: boolean;
  /**
   * The browser the outcome goes back to, bound for a new login transaction (its cookie set on the response
   * when it had none). Given, a consentUrl is Kakao's own authorize URL; absent (native apps), it is this
   * service's login URL, which binds whichever browser opens it.
   */
  bindBrowser?: () => string;
}

/** What a consentUrl asks Kakao for: consent items (`scope`) or service terms (`service_terms`). */
interface ConsentAsk {
  scope?: string[];
  serviceTerms?: string[];
}

/**
 * What a login waiting for required terms needs to finish (sealed in the terms ticket). Not Kakao's terms
 * answer: `agreeTerms` reads Kakao again, since the person may have agreed there since (the consentUrl).
 */
type TermsContinuation =
  | {
      kind: 'kakao';
      profile: KakaoProfile;
      tokens: KakaoTokenResponse;
      returnTo?: string | null;
      kakaoAuthTime?: number;
    }
  | { kind: 'link'; linkTicketHash: string }
  | { kind: 'password'; memberId: string };

/** What a link ticket holds (sealed): the Kakao side of the login that matched an existing member. */
interface LinkTicketContent {
  profile: KakaoProfile;
  tokens: KakaoTokenResponse;
  kakaoTerms?: KakaoTermsRead;
  kakaoAuthTime?: number;
  /** Where the login that matched wanted the person back: a consentUrl after the link still goes there. */
  returnTo?: string | null;
}

/**
 * A Kakao account connected to the app before this login could have been (an authorization code lives at
 * most 10 minutes) was consented to through a sibling service sharing the Kakao app (family sites).
 */
const SIBLING_CONSENT_AGE_MS = 10 * 60_000;

/**
 * Kakao's auth_time and our clock (which stamped the transaction) may disagree a little; a session reused
 * at Kakao is minutes or days old, far beyond this.
 */
const AUTH_TIME_SKEW_SECONDS = 5;

/** JSON turned the Date back into a string; a profile read from a ticket gets its Date again. */
function reviveProfile(profile: KakaoProfile): KakaoProfile {
  return { ...profile, connectedAt: profile.connectedAt ? new Date(profile.connectedAt) : null };
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
  private readonly logger = new Logger(KakaoLoginService.name);

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
    private readonly accounts: KakaoAccountReader,
    private readonly terms: TermsService,
    private readonly unlinks: KakaoUnlinks,
    private readonly passport: KakaoPassport,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The consent each consentUrl of a fresh outcome asks, until `pointConsentAtKakao` turns it into Kakao's URL. */
  private readonly consentAsks = new WeakMap<LoginOutcome, ConsentAsk>();

  async complete(input: KakaoLoginInput): Promise<LoginOutcome> {
    // Kakao Sync terms are read at every Kakao login: with the user (KakaoAccountReader) when the caller read
    // them, otherwise here alongside the id_token check (readKakao never throws).
    const [claims, kakaoTerms] = await Promise.all([
      this.checkIdToken(input),
      input.kakaoTerms ?? this.terms.readKakao({ accessToken: input.tokens.access_token }),
    ]);
    if (input.intent === 'recertify') this.assertFreshAuthentication(claims, input.transactionCreatedAt);
    const withTerms = { ...input, kakaoTerms, kakaoAuthTime: claims?.auth_time ?? claims?.iat };
    switch (input.intent) {
      case 'login':
        return this.pointConsentAtKakao(await this.login(withTerms), input);
      case 'link':
        return this.pointConsentAtKakao(await this.link(withTerms), input);
      case 'recertify':
        return this.recertify(withTerms);
    }
  }

  /** The hybrid flow's first half: a code a front-end got from Kakao, exchanged and read. */
  async fromCode(input: {
    code: string;
    redirectUri: string;
    codeVerifier?: string;
  }): Promise<KakaoAccount & { tokens: KakaoTokenResponse }> {
    if (!this.config.allowedCodeRedirectUris.includes(input.redirectUri)) {
      throw new AppException('REDIRECT_URI_NOT_ALLOWED', 'This redirect URI is not accepted for code logins');
    }
    const tokens = await this.kakao.exchangeCode(input);
    return { ...(await this.accounts.read(tokens.access_token)), tokens };
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
  private async checkIdToken(input: KakaoLoginInput): Promise<KakaoIdTokenClaims | undefined> {
    const idToken = input.tokens.id_token;
    if (!idToken) {
      if (input.requireIdToken)
        throw new AppException('ID_TOKEN_INVALID', 'Kakao returned no id_token', { reason: 'missing' });
      return undefined;
    }
    let claims: KakaoIdTokenClaims;
    try {
      claims = await this.idTokens.verify(idToken, { nonce: input.nonce, audiences: input.audiences });
    } catch (err) {
      // The redirect flow's token comes from our own code exchange with Kakao: no client can forge it. Refused
      // for anything but its nonce (a code injected from another login), it says our configuration
      // (KAKAO_ISSUER, KAKAO_REST_API_KEY) or Kakao is off, which the 401 alone would keep from the operator.
      const reason = err instanceof AppException ? (err.details as { reason?: string } | undefined)?.reason : undefined;
      if (input.requireIdToken && reason !== undefined && reason !== 'nonce') {
        this.logger.warn(
          { reason, issuer: this.config.kakao.issuer },
          "Kakao's id_token from our own code exchange was refused: check KAKAO_ISSUER and KAKAO_REST_API_KEY",
        );
      }
      throw err;
    }
    if (claims.sub !== input.profile.kakaoId) {
      throw new AppException('ID_TOKEN_INVALID', 'The Kakao id_token is not valid', { reason: 'sub' });
    }
    return claims;
  }

  /**
   * A re-certification proves a fresh authentication only if Kakao authenticated the person during this
   * transaction: a Kakao browser session reused (an authorize URL that lost `prompt=login`) carries the
   * auth_time of its original login (OIDC Core 2, auth_time).
   */
  private assertFreshAuthentication(claims: KakaoIdTokenClaims | undefined, transactionCreatedAt?: Date): void {
    const authTime = claims?.auth_time;
    const startedAt = transactionCreatedAt && Math.floor(transactionCreatedAt.getTime() / 1000);
    if (typeof authTime !== 'number' || startedAt === undefined || authTime < startedAt - AUTH_TIME_SKEW_SECONDS) {
      throw new AppException(
        'RECERTIFICATION_REQUIRED',
        'Kakao did not authenticate you again for this re-certification; log in with Kakao again',
      );
    }
  }

  /**
   * A login in flight must not undo an unlink: when Kakao told us (webhook) that this account was unlinked
   * after the person authenticated at Kakao, the login is refused. Compared in whole seconds, as auth_time
   * is; without an id_token there is no time to compare, but then the Kakao token used moments ago was
   * accepted by Kakao, which an unlinked account's token is not.
   */
  private async assertNotUnlinkedSince(manager: EntityManager, input: KakaoLoginInput): Promise<void> {
    // Taken first, so that the mark read below and the link read after it cannot go stale under a webhook.
    await this.unlinks.lockAccount(manager, input.profile.kakaoId);
    if (input.kakaoAuthTime === undefined) return;
    const unlinkedAt = await this.unlinks.unlinkedAt(input.profile.kakaoId, manager);
    if (unlinkedAt && input.kakaoAuthTime < Math.floor(unlinkedAt.getTime() / 1000)) {
      throw new AppException(
        'KAKAO_ACCESS_DENIED',
        'This Kakao account was unlinked after this login began; log in with Kakao again',
      );
    }
  }

  private async login(
    input: KakaoLoginInput,
    beforeDeciding?: (manager: EntityManager) => Promise<void>,
  ): Promise<LoginOutcome> {
    // Two first logins of one Kakao account race on the identity's unique key; the loser starts over and
    // finds the winner's member.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(async (manager) => {
          await beforeDeciding?.(manager);
          return this.loginOnce(manager, input);
        });
      } catch (err) {
        if (err instanceof TermsMissing) {
          const { profile, tokens, returnTo, kakaoAuthTime } = input;
          const continuation: TermsContinuation = { kind: 'kakao', profile, tokens, returnTo, kakaoAuthTime };
          return this.termsRequired(err, continuation, input);
        }
        if (!(err instanceof LostFirstLoginRace) || attempt >= 3) throw err;
      }
    }
  }

  private async loginOnce(manager: EntityManager, input: KakaoLoginInput): Promise<LoginOutcome> {
    await this.assertNotUnlinkedSince(manager, input);
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
      kakao: {
        email: profile.email,
        emailTrusted: profile.emailVerified,
        name: profile.name,
        nickname: profile.nickname,
      },
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
        return this.signIn(manager, 'LOGGED_IN', decision.memberId, input, 'member.logged_in', { gate: true });
      case 'DEACTIVATED_MEMBER':
        // Only the member's own linked Kakao account may offer its address: a match by email has one already.
        await this.memberService.queueReactivation(
          manager,
          decision.memberId,
          linked ? (profile.trustedEmail ?? undefined) : undefined,
        );
        return { result: 'DEACTIVATED_MEMBER' };
      case 'MANDATORY_ITEMS_NOT_AGREED':
        return this.askConsent(
          { result: 'MANDATORY_ITEMS_NOT_AGREED', missingItems: decision.missingItems },
          { scope: decision.missingItems },
          input,
        );
      case 'LINK_REQUIRED':
      case 'VERIFICATION_REQUIRED': {
        const candidate = await this.members.findById(decision.memberId, manager);
        const linkTicket = randomBytes(32).toString('base64url');
        const content: LinkTicketContent = {
          profile,
          tokens: input.tokens,
          kakaoTerms: input.kakaoTerms,
          kakaoAuthTime: input.kakaoAuthTime,
          returnTo: input.returnTo,
        };
        await this.members.createLinkTicket(manager, {
          ticketHash: hashToken(linkTicket),
          memberId: decision.memberId,
          kind: decision.kind === 'LINK_REQUIRED' ? 'confirm' : 'verify',
          kakaoSealed: this.cipher.encrypt(JSON.stringify(content), 'link-ticket'),
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
        const sibling = this.consentFromSibling(input);
        if (sibling) {
          this.logger.log(
            `Kakao user new to this service signed up with consent given through a sibling service (member ${memberId})`,
          );
        }
        return this.signIn(manager, 'SIGNED_UP', memberId, input, 'member.signed_up', {
          gate: true,
          data: sibling ? { consentFrom: 'sibling_service' } : {},
        });
      }
    }
  }

  /**
   * Family sites (several services sharing one Kakao app): the Kakao account was connected, or its Kakao
   * Sync terms agreed, before this login began, so the consent was given to a sibling service.
   */
  private consentFromSibling(input: KakaoLoginInput): boolean {
    const before = Date.now() - SIBLING_CONSENT_AGE_MS;
    const connected = input.profile.connectedAt?.getTime();
    const terms = input.kakaoTerms?.ok ? input.kakaoTerms.terms : [];
    return (
      (connected !== undefined && connected < before) ||
      terms.some((t) => t.agreed && t.agreed_at !== undefined && Date.parse(t.agreed_at) < before)
    );
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
    return this.finishLink(ticketHash, { requestId });
  }

  /** Links and signs in after a confirmed (or proven) link ticket; spends it in the same transaction. */
  private async finishLink(
    ticketHash: Buffer,
    extra: {
      requestId?: string;
      agreedTags?: string[];
      kakaoTerms?: KakaoTermsRead;
      beforeLinking?: (manager: EntityManager) => Promise<void>;
    },
  ): Promise<LoginOutcome> {
    const { ticket, content } = await this.openLinkTicket(ticketHash);
    const input: KakaoLoginInput = {
      profile: content.profile,
      tokens: content.tokens,
      intent: 'link',
      requireIdToken: false,
      requestId: extra.requestId,
      kakaoTerms: extra.kakaoTerms ?? content.kakaoTerms,
      agreedTags: extra.agreedTags,
      kakaoAuthTime: content.kakaoAuthTime,
      returnTo: content.returnTo,
    };
    try {
      return await this.dataSource.transaction(async (manager): Promise<LoginOutcome> => {
        await extra.beforeLinking?.(manager);
        await this.assertNotUnlinkedSince(manager, input);
        if (!(await this.members.spendLinkTicket(manager, ticketHash))) {
          throw new AppException('TICKET_INVALID', 'The link ticket is invalid, used or expired');
        }
        // The member may have been deactivated since the ticket was issued: the person is sent to
        // reactivation (the ticket is spent), nothing is linked and no session starts.
        const status = await this.members.lockStatus(manager, ticket.memberId);
        if (status === 'deactivated') {
          await this.memberService.queueReactivation(manager, ticket.memberId);
          return { result: 'DEACTIVATED_MEMBER' };
        }
        if (status !== 'active')
          throw new AppException('TICKET_INVALID', 'The link ticket is invalid, used or expired');
        const link = await this.members.linkKakao(manager, ticket.memberId, input.profile);
        if ('conflict' in link) throw linkConflict(link.conflict);
        await this.members.refreshKakaoProfile(manager, ticket.memberId, input.profile);
        await this.kakaoTokens.save(manager, link.identityId, input.tokens);
        return this.signIn(manager, 'LINKED', ticket.memberId, input, 'member.kakao_linked', { gate: true });
      });
    } catch (err) {
      if (!(err instanceof TermsMissing)) throw err;
      const continuation: TermsContinuation = { kind: 'link', linkTicketHash: ticketHash.toString('base64url') };
      return this.termsRequired(err, continuation, input);
    }
  }

  private async openLinkTicket(
    ticketHash: Buffer,
  ): Promise<{ ticket: { memberId: string }; content: LinkTicketContent }> {
    const ticket = await this.members.findLinkTicket(ticketHash);
    if (!ticket) throw new AppException('TICKET_INVALID', 'The link ticket is invalid, used or expired');
    const content = JSON.parse(this.cipher.decrypt(ticket.kakaoSealed, 'link-ticket')) as LinkTicketContent;
    return { ticket, content: { ...content, profile: reviveProfile(content.profile) } };
  }

  /**
   * `POST /auth/terms/agree`: the person agreed on the service's page to the terms a login was waiting for.
   * The agreement is recorded (source `service`), given at Kakao too when the person came through Kakao
   * Sync, and the login is finished where it stopped; the ticket is spent in the same transaction.
   *
   * A ticket stays usable (once, within its 10 minutes) even when its login was finished by another route
   * meanwhile, typically the consentUrl followed in the same browser: posting it too is the same person's
   * double submit, answered with a login like the first, and it cannot undo anything (Kakao is read now, and
   * the tags posted end agreed). Killing it would also need tickets found by Kakao account, which a new
   * member's ticket does not name.
   */
  async agreeTerms(termsTicket: string, tags: string[], requestId?: string): Promise<LoginOutcome> {
    const ticket = await this.terms.openTicket<TermsContinuation>(termsTicket);
    this.terms.checkAgreement(tags, ticket.missing);
    const spend = (manager: EntityManager) => this.terms.spendTicket(manager, ticket.hash);
    const c = ticket.continuation;
    if (c.kind === 'password') return this.memberService.passwordSignIn(c.memberId, requestId, tags, spend);
    const linkHash = c.kind === 'link' ? Buffer.from(c.linkTicketHash, 'base64url') : undefined;
    const kakaoSide = c.kind === 'kakao' ? c : (await this.openLinkTicket(linkHash!)).content;
    const kakaoTerms = await this.upgradeAtKakao(kakaoSide.tokens.access_token, tags);
    if (c.kind === 'link') {
      return this.finishLink(linkHash!, { requestId, agreedTags: tags, kakaoTerms, beforeLinking: spend });
    }
    const input: KakaoLoginInput = {
      profile: reviveProfile(c.profile),
      tokens: c.tokens,
      intent: 'login',
      requireIdToken: false,
      returnTo: c.returnTo,
      requestId,
      kakaoTerms,
      agreedTags: tags,
      kakaoAuthTime: c.kakaoAuthTime,
    };
    return this.login(input, spend);
  }

  /**
   * Kakao's terms read now, and those registered at Kakao and not agreed there agreed there too (upgrade
   * API, the person's own token); Kakao's answer as it now stands is returned for the login to record. Read
   * now, not taken from the ticket: an answer from before the person agreed at Kakao (the consentUrl) would
   * say "not agreed", and the upgrade API leaves out terms already agreed, so nothing would correct it.
   * A failed read is what it is at any login (the agreement given here is recorded, the state is stale and
   * read again in the background); nothing is given at Kakao without knowing what Kakao holds.
   */
  private async upgradeAtKakao(accessToken: string, tags: string[]): Promise<KakaoTermsRead> {
    const read = await this.terms.readKakao({ accessToken });
    if (!read.ok) return read;
    const atKakao = tags.filter((tag) => read.terms.some((t) => t.tag === tag && !t.agreed));
    const upgraded = await this.terms.upgradeAtKakao({ accessToken }, atKakao);
    return {
      ...read,
      terms: read.terms.map((t) =>
        upgraded.includes(t.tag) ? { ...t, agreed: true, agreed_at: new Date().toISOString(), agreed_by: 'KAPI' } : t,
      ),
    };
  }

  /** TERMS_REQUIRED: a ticket to finish on the service's page, and Kakao's consent screen for those tags. */
  private async termsRequired(
    err: TermsMissing,
    continuation: TermsContinuation,
    input: KakaoLoginInput,
    manager?: EntityManager,
  ): Promise<LoginOutcome> {
    const termsTicket = await this.terms.issueTicket(
      { memberId: err.memberId, missing: err.missing, continuation },
      manager,
    );
    await this.audit.record(
      {
        type: 'terms.required',
        memberId: err.memberId,
        requestId: input.requestId,
        data: { missing: err.missing.join(',') },
      },
      manager,
    );
    // Kakao can only show terms registered in its console (KAKAO_API.md 9, selective service terms): when
    // Kakao told us which it has, only those are asked there. When it could not be read, every missing tag
    // is asked. Either way the missing ones are all required, so the "at least one required tag" rule holds.
    const read = input.kakaoTerms;
    const atKakao = read?.ok ? err.missing.filter((tag) => read.terms.some((t) => t.tag === tag)) : [];
    return this.askConsent(
      { result: 'TERMS_REQUIRED', termsTicket, missingTerms: err.missing },
      { serviceTerms: atKakao.length ? atKakao : err.missing },
      input,
    );
  }

  /**
   * An outcome that sends the person to Kakao for what is missing, with this service's login URL for now:
   * the login transaction behind Kakao's own URL is only written once the deciding database transaction is
   * over (`pointConsentAtKakao`), never on a second connection while it holds the first.
   */
  private askConsent(outcome: LoginOutcome, ask: ConsentAsk, input: KakaoLoginInput): LoginOutcome {
    const withUrl = { ...outcome, consentUrl: this.loginUrl(ask, input.returnTo) };
    this.consentAsks.set(withUrl, ask);
    return withUrl;
  }

  /**
   * API.md's consentUrl is Kakao's authorize URL asking exactly what is missing: a new login transaction
   * (state, nonce, PKCE) bound to the browser the outcome goes back to, so that following the URL comes back
   * through the callback like any login.
   */
  private async pointConsentAtKakao(outcome: LoginOutcome, input: KakaoLoginInput): Promise<LoginOutcome> {
    const ask = this.consentAsks.get(outcome);
    if (!ask || !input.bindBrowser) return outcome;
    const context = { intent: 'login' as const, ...ask, returnTo: input.returnTo ?? undefined };
    const nonce = randomBytes(32).toString('base64url');
    return { ...outcome, consentUrl: await this.passport.authorizeUrl(context, input.bindBrowser(), nonce) };
  }

  /**
   * Where the person gives Kakao what is missing when no browser is known (native apps): a new Kakao login
   * through this service (which binds the browser that opens it) asking exactly those items or terms.
   */
  private loginUrl(ask: ConsentAsk, returnTo?: string | null): string {
    // Appended, not resolved: PUBLIC_URL may carry a reverse proxy's path prefix.
    const url = new URL(`${this.config.http.publicUrl.replace(/\/+$/, '')}/auth/kakao/login`);
    if (ask.scope) url.searchParams.set('scope', ask.scope.join(','));
    if (ask.serviceTerms) url.searchParams.set('service_terms', ask.serviceTerms.join(','));
    if (returnTo) url.searchParams.set('returnTo', returnTo);
    return url.toString();
  }

  private async link(input: KakaoLoginInput): Promise<LoginOutcome> {
    const memberId = this.requireMember(input);
    return this.dataSource.transaction(async (manager) => {
      await this.assertNotUnlinkedSince(manager, input);
      const link = await this.members.linkKakao(manager, memberId, input.profile);
      if ('conflict' in link) throw linkConflict(link.conflict);
      await this.members.refreshKakaoProfile(manager, memberId, input.profile);
      await this.kakaoTokens.save(manager, link.identityId, input.tokens);
      return this.signIn(manager, 'LINKED', memberId, input, 'member.kakao_linked', { gate: false });
    });
  }

  /** Only the member's own Kakao account re-certifies them. */
  private async recertify(input: KakaoLoginInput): Promise<LoginOutcome> {
    const memberId = this.requireMember(input);
    return this.dataSource.transaction(async (manager) => {
      await this.unlinks.lockAccount(manager, input.profile.kakaoId);
      const identity = await this.members.findKakaoIdentity(memberId, manager);
      if (!identity || identity.kakaoId !== input.profile.kakaoId) {
        throw new AppException('FORBIDDEN', 'Re-certification needs the Kakao account linked to this member');
      }
      await this.members.refreshKakaoProfile(manager, memberId, input.profile);
      await this.kakaoTokens.save(manager, identity.identityId, input.tokens);
      return this.signIn(manager, 'RECERTIFIED', memberId, input, 'member.recertified', { gate: false });
    });
  }

  /**
   * When the person really authenticated (Kakao's auth_time), so that the recent-authentication check of a
   * withdrawal or a link sees a day-old Kakao session as day-old. Never in the future.
   *
   * Without an id_token nothing tells when, and a Kakao access token can be minted from a day-old Kakao session
   * (now, as it was, let such a token withdraw the account). The one authentication certain is the one that
   * connected the account to this app (connected_at, a consent needs a login): never later than the latest,
   * so never fresher than the truth. A first login is then fresh, a token of an old connection is not (the
   * person re-certifies, which asks Kakao for a login). Without connected_at either: the earliest time.
   */
  private sessionAuthTime(input: KakaoLoginInput): Date {
    const now = Date.now();
    const kakao = input.kakaoAuthTime;
    if (typeof kakao === 'number' && Number.isFinite(kakao)) return new Date(Math.min(kakao * 1000, now));
    const connected = input.profile.connectedAt?.getTime();
    return new Date(connected !== undefined && Number.isFinite(connected) ? Math.min(connected, now) : 1000);
  }

  /**
   * Before a signed-in member's link spends a code at Kakao: a member who has a Kakao account already is told
   * so (409), and anyone else needs a recent authentication (a link outlives every session).
   */
  async assertCanLink(memberId: string, authTime: Date): Promise<void> {
    const member = await this.memberService.get(memberId);
    if (member.identities.some((i) => i.provider === 'kakao')) throw linkConflict('MEMBER_ALREADY_HAS_KAKAO');
    assertRecentAuthentication(authTime, 'linking a Kakao account');
  }

  private requireMember(input: KakaoLoginInput): string {
    if (!input.memberId) throw new AppException('UNAUTHENTICATED', 'This Kakao login needs a signed-in member');
    return input.memberId;
  }

  /**
   * Records the terms this login learned, then starts the session. With `gate`, a required term known to be
   * missing stops the login instead (TermsMissing rolls the whole transaction back). A member already
   * signed in (link, re-certification) is not stopped: they are asked at their next login.
   */
  private async signIn(
    manager: EntityManager,
    result: LoginOutcome['result'],
    memberId: string,
    input: KakaoLoginInput,
    event: 'member.logged_in' | 'member.signed_up' | 'member.kakao_linked' | 'member.recertified',
    options: { gate: boolean; data?: Record<string, string> },
  ): Promise<LoginOutcome> {
    const { missing } = await this.terms.settle(manager, memberId, {
      kakao: input.kakaoTerms,
      agreedTags: input.agreedTags,
      requestId: input.requestId,
    });
    if (options.gate && missing.length) {
      // A known member's login stops here but keeps what it learned (the refreshed profile, Kakao's tokens
      // and terms answers), so a missing term stays known even if Kakao cannot be read next time. A new
      // member or a new link is not kept at all: the whole transaction is rolled back.
      if (result !== 'LOGGED_IN') throw new TermsMissing(missing, result === 'SIGNED_UP' ? undefined : memberId);
      const { profile, tokens, returnTo, kakaoAuthTime } = input;
      return this.termsRequired(
        new TermsMissing(missing, memberId),
        { kind: 'kakao', profile, tokens, returnTo, kakaoAuthTime },
        input,
        manager,
      );
    }
    let tokens;
    if (input.startSession !== false) {
      tokens = await this.sessions.start(manager, {
        memberId,
        amr: 'kakao',
        authTime: this.sessionAuthTime(input),
        requestId: input.requestId,
      });
      await this.members.recordLogin(manager, memberId);
    }
    if (event === 'member.kakao_linked') await this.memberService.queueKakaoLinkedNotice(manager, memberId);
    await this.audit.record(
      { type: event, memberId, requestId: input.requestId, data: { method: 'kakao', ...options.data } },
      manager,
    );
    const member = await this.members.findById(memberId, manager);
    return { result, tokens, member };
  }
}
