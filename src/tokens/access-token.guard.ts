import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IS_PUBLIC } from '../common/auth/public.decorator';
import { AppException } from '../common/errors';
import { bearerToken, principalFromClaims, setPrincipal } from './principal';
import { SessionsService } from './sessions.service';

/**
 * Global guard: every route needs a valid access token of a live session unless marked `@Public()`
 * (secure by default; routes for other services add their own HTTP Basic guard).
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    // RFC 6750 3: say which scheme is expected, and that the token failed when there was one.
    const challenge = (error?: string) =>
      void http
        .getResponse<FastifyReply>()
        .header('www-authenticate', `Bearer realm="kakao-auth"${error ? `, error="${error}"` : ''}`);
    let token: string | undefined;
    try {
      token = bearerToken(request);
    } catch (err) {
      challenge('invalid_request');
      throw err;
    }
    if (!token) {
      challenge();
      throw new AppException('UNAUTHENTICATED', 'An access token is required');
    }
    try {
      setPrincipal(request, principalFromClaims(await this.sessions.authenticate(token)));
      return true;
    } catch (err) {
      challenge('invalid_token');
      throw err;
    }
  }
}
