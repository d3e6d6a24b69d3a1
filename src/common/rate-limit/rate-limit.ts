import { applyDecorators, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { Throttle, ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { AppException, ErrorResponse } from '../errors';
import { normalizeEmail } from '../normalize';

export const AUTH_THROTTLER = 'auth';

/** ThrottlerGuard answering in our error shape (`429 RATE_LIMITED`) with a Retry-After header. */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    void reply.header('retry-after', String(Math.max(1, Math.ceil(detail.timeToBlockExpire))));
    throw new AppException('RATE_LIMITED', 'Too many requests, try again later');
  }

  /**
   * The counters live in this process's memory, so the key needs no hashing (the package's default hashes it
   * with SHA-256 on every request, for stores that limit key length).
   */
  protected override generateKey(context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${context.getClass().name}.${context.getHandler().name}:${throttlerName}:${tracker}`;
  }
}

/**
 * Rate-limits a route per client IP with the `auth` throttler (RATE_LIMIT_AUTH_PER_MINUTE per minute),
 * or with an explicit `limit` per `ttlMs`.
 */
export function RateLimited(override?: { limit: number; ttlMs: number }) {
  return applyDecorators(
    ...(override ? [Throttle({ [AUTH_THROTTLER]: { limit: override.limit, ttl: override.ttlMs } })] : []),
    UseGuards(RateLimitGuard),
    ApiTooManyRequestsResponse({ type: ErrorResponse, description: 'RATE_LIMITED' }),
  );
}

/**
 * The account a password attempt is for (its normalised email), so attempts on one account are limited
 * however many addresses they come from. Undefined for requests that name no account.
 */
export function accountTracker(request: { body?: unknown }): string | undefined {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.length <= 254 ? `account:${normalizeEmail(email)}` : undefined;
}
