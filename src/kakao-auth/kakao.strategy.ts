import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { randomBytes } from 'node:crypto';
import { Strategy } from 'passport-oauth2';
import { AppException } from '../common/errors';
import { TokenCipher } from '../common/crypto/token-cipher';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { KakaoClient } from '../kakao/kakao.client';
import type { KakaoTokenResponse } from '../kakao/kakao.types';
import { hashToken } from '../tokens/sessions.service';
import { KakaoAccount, KakaoAccountReader } from './kakao-account.reader';
import { LoginIntent, LoginTransaction, LoginTransactionsRepository } from './login-transactions.repository';

export const KAKAO_STRATEGY = 'kakao';
export const LOGIN_TRANSACTION_TTL_SECONDS = 600;

/** What a login start asks for; becomes the stored transaction and the authorize URL's extra parameters. */
export interface LoginRequestContext {
  intent: LoginIntent;
  memberId?: string;
  sessionId?: string;
  returnTo?: string;
  prompt?: string;
  scope?: string[];
  serviceTerms?: string[];
}

/** The request passport sees: the query and the browser-binding cookie, nothing of Fastify's. */
export interface PassportRequest {
  query: Record<string, unknown>;
  binding?: string;
  context?: LoginRequestContext;
}

export interface KakaoLoginResult extends KakaoAccount {
  tokens: KakaoTokenResponse;
}

const random = () => randomBytes(32).toString('base64url');

/**
 * Kakao Login as a passport-oauth2 strategy. It only maps: Kakao's answer becomes a typed KakaoProfile (with the terms read alongside).
 * State, nonce and PKCE live in login_transactions (any instance can finish a login); the code exchange and
 * the profile call go through the one KakaoClient.
 */
@Injectable()
export class KakaoStrategy extends PassportStrategy(Strategy, KAKAO_STRATEGY, 5) {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly kakao: KakaoClient,
    private readonly accounts: KakaoAccountReader,
    transactions: LoginTransactionsRepository,
    cipher: TokenCipher,
  ) {
    super({
      authorizationURL: `${config.kakao.authBaseUrl.replace(/\/+$/, '')}/oauth/authorize`,
      tokenURL: `${config.kakao.authBaseUrl.replace(/\/+$/, '')}/oauth/token`,
      clientID: config.kakao.restApiKey,
      clientSecret: config.kakao.clientSecret ?? '',
      callbackURL: config.kakao.redirectUri,
      // Kakao joins scopes with spaces in its SDK and accepts them (KAKAO_API.md 1).
      scope: config.kakao.scopes,
      scopeSeparator: ' ',
      pkce: true,
      state: true,
      store: new KakaoStateStore(transactions, cipher) as never,
    });
    // Both calls to Kakao go through KakaoClient (timeouts, error mapping, id-safe JSON).
    // passport-oauth2 wraps a failure in InternalOAuthError; the runner unwraps `oauthError` again.
    const exchange = (code: string, params: unknown, callback: (...args: unknown[]) => void) => {
      const p = params as { redirect_uri: string; code_verifier?: string };
      this.kakao.exchangeCode({ code, redirectUri: p.redirect_uri, codeVerifier: p.code_verifier }).then(
        (tokens) => callback(null, tokens.access_token, tokens.refresh_token ?? '', tokens),
        (err: unknown) => callback(err),
      );
    };
    this._oauth2.getOAuthAccessToken = exchange as never;
  }

  override userProfile(accessToken: string, done: (err?: unknown, profile?: unknown) => void): void {
    this.accounts.read(accessToken).then(
      (account) => done(null, account),
      (err: unknown) => done(err),
    );
  }

  /** Kakao's own authorize parameters (KAKAO_API.md 1): nonce, prompt, service_terms, additional scope. */
  override authorizationParams(options: { context?: LoginRequestContext; nonce?: string }): object {
    const ctx = options.context;
    return {
      nonce: options.nonce,
      ...(ctx?.prompt ? { prompt: ctx.prompt } : {}),
      ...(ctx?.serviceTerms?.length ? { service_terms: ctx.serviceTerms.join(',') } : {}),
    };
  }

  validate(
    _accessToken: string,
    _refreshToken: string,
    params: KakaoTokenResponse,
    account: KakaoAccount,
  ): KakaoLoginResult {
    return { ...account, tokens: params };
  }
}

/**
 * passport-oauth2 state store backed by login_transactions: `store` records the transaction and returns the
 * state; `verify` spends it (unknown, replayed, foreign or expired states fail before Kakao is called) and
 * hands back the PKCE verifier.
 */
export class KakaoStateStore {
  constructor(
    private readonly transactions: LoginTransactionsRepository,
    private readonly cipher: TokenCipher,
  ) {}

  store(
    req: PassportRequest & { nonce?: string },
    verifier: string,
    _state: unknown,
    _meta: unknown,
    callback: (err: unknown, state?: string) => void,
  ): void {
    const ctx = req.context;
    if (!ctx || !req.binding || !req.nonce) {
      callback(new Error('A login transaction needs its context, binding and nonce'));
      return;
    }
    const state = random();
    const tx: LoginTransaction = {
      nonce: req.nonce,
      codeVerifierSealed: this.cipher.encrypt(verifier, 'pkce'),
      intent: ctx.intent,
      memberId: ctx.memberId ?? null,
      sessionId: ctx.sessionId ?? null,
      returnTo: ctx.returnTo ?? null,
    };
    this.transactions
      .create(hashToken(state), hashToken(req.binding), tx, LOGIN_TRANSACTION_TTL_SECONDS)
      .then(() => callback(null, state), callback);
  }

  verify(
    req: PassportRequest & { transaction?: LoginTransaction },
    state: unknown,
    callback: (err: unknown, ok?: string | false, info?: unknown) => void,
  ): void {
    // The controller has already spent the transaction (it needs it for errors and returnTo too).
    const tx = req.transaction;
    if (!tx || typeof state !== 'string') {
      callback(new AppException('INVALID_STATE', 'Unknown or already used login state'));
      return;
    }
    callback(null, this.cipher.decrypt(tx.codeVerifierSealed, 'pkce'), tx);
  }
}

export { random as randomToken };
