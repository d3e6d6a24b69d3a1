import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppException } from '../common/errors';
import type { AccessTokenClaims, AuthMethod } from './access-token.service';

/** Who is calling, from a verified access token whose session is live. */
export interface Principal {
  memberId: string;
  sessionId: string;
  tokenId: string;
  authTime: Date;
  amr: AuthMethod[];
}

const PRINCIPAL = Symbol('principal');
type WithPrincipal = FastifyRequest & { [PRINCIPAL]?: Principal };

export function principalFromClaims(claims: AccessTokenClaims): Principal {
  return {
    memberId: claims.sub,
    sessionId: claims.sid,
    tokenId: claims.jti,
    authTime: new Date(claims.auth_time * 1000),
    amr: claims.amr,
  };
}

export function setPrincipal(request: FastifyRequest, principal: Principal): void {
  (request as WithPrincipal)[PRINCIPAL] = principal;
}

/**
 * The bearer token of a request, or undefined when there is no Authorization header. A header that is
 * present but not exactly `Bearer <token>` is refused rather than ignored.
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  if (!match) throw new AppException('UNAUTHENTICATED', 'The Authorization header must be "Bearer <access token>"');
  return match[1];
}

/** The authenticated member of the request (set by the global AccessTokenGuard). */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<WithPrincipal>()[PRINCIPAL];
  // Only reachable on a route wrongly marked public: fail closed.
  if (!principal) throw new AppException('UNAUTHENTICATED', 'An access token is required');
  return principal;
});
