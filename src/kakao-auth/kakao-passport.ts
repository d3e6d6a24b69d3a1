import { Injectable } from '@nestjs/common';
import passport from 'passport';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import type { LoginTransaction } from './login-transactions.repository';
import {
  KAKAO_STRATEGY,
  KakaoLoginResult,
  KakaoStrategy,
  LoginRequestContext,
  PassportRequest,
} from './kakao.strategy';

/** Passport writes redirects to an Express-style response; this one hands the Location back instead. */
function capturingResponse(onRedirect: (location: string) => void) {
  const headers = new Map<string, string>();
  return {
    statusCode: 200,
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
    end: () => onRedirect(headers.get('location') ?? ''),
  };
}

/** passport-oauth2 hides the cause of a failed code exchange in `oauthError`. */
function unwrap(err: unknown): Error {
  const inner = (err as { oauthError?: unknown } | undefined)?.oauthError;
  if (inner instanceof Error) return inner;
  return err instanceof Error ? err : new Error(String(err));
}

type Middleware = (req: unknown, res: unknown, next: (err?: unknown) => void) => void;
const authenticate = (options: object, callback: (err: unknown, user?: unknown) => void): Middleware =>
  passport.authenticate(KAKAO_STRATEGY, options, callback) as Middleware;

/**
 * Runs the Kakao passport strategy outside Express: the one place that adapts passport to this Fastify
 * service. Passport sees a minimal request (query, binding, transaction) and a response that captures its
 * redirect, so Fastify stays the only writer of the real response.
 */
@Injectable()
export class KakaoPassport {
  constructor(
    // Injected so the strategy is constructed (and registered with passport) before it is used.
    readonly strategy: KakaoStrategy,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** The authorize URL of a new login transaction (stored by the strategy's state store). */
  authorizeUrl(context: LoginRequestContext, binding: string, nonce: string): Promise<string> {
    const scope = [...new Set([...this.config.kakao.scopes, ...(context.scope ?? [])])];
    return new Promise((resolve, reject) => {
      const req: PassportRequest & { nonce: string } = { query: {}, binding, context, nonce };
      authenticate({ session: false, scope, context, nonce }, (err: unknown) =>
        reject(err ? unwrap(err) : new Error('The Kakao strategy did not redirect')),
      )(req, capturingResponse(resolve), (err: unknown) => reject(unwrap(err)));
    });
  }

  /** Exchanges the callback's code (with the transaction's PKCE verifier) and loads the Kakao profile. */
  complete(code: string, state: string, transaction: LoginTransaction): Promise<KakaoLoginResult> {
    return new Promise((resolve, reject) => {
      const req: PassportRequest & { transaction: LoginTransaction } = { query: { code, state }, transaction };
      authenticate({ session: false }, (err: unknown, user?: unknown) => {
        if (err) reject(unwrap(err));
        else if (!user) reject(new AppException('INVALID_STATE', 'The Kakao login could not be completed'));
        else resolve(user as KakaoLoginResult);
      })(
        req,
        capturingResponse(() => reject(new Error('Unexpected redirect during the callback'))),
        (err: unknown) => reject(unwrap(err)),
      );
    });
  }
}
