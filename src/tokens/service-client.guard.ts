import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { Public } from '../common/auth/public.decorator';
import { AppException, ErrorResponse } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';

import { secretDigest as digest } from '../common/crypto/constant-time';

/** HTTP Basic authentication of the callers listed in SERVICE_CLIENTS, compared in constant time. */
@Injectable()
export class ServiceClientGuard implements CanActivate {
  private readonly clients: Array<{ name: Buffer; secret: Buffer }>;

  constructor(@InjectConfig() config: AppConfig) {
    this.clients = config.serviceClients.map((c) => ({ name: digest(c.name), secret: digest(c.secret) }));
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const credentials = parseBasic(request.headers.authorization);
    if (credentials) {
      const name = digest(credentials.name);
      const secret = digest(credentials.secret);
      let ok = false;
      // Every client is compared, matched or not, so the time taken does not say which name exists.
      for (const client of this.clients) {
        ok = (timingSafeEqual(client.name, name) && timingSafeEqual(client.secret, secret)) || ok;
      }
      if (ok) return true;
    }
    void context.switchToHttp().getResponse<FastifyReply>().header('www-authenticate', 'Basic realm="kakao-auth"');
    throw new AppException('SERVICE_UNAUTHORIZED', 'Service credentials are missing or wrong');
  }
}

function parseBasic(header: string | undefined): { name: string; secret: string } | undefined {
  const match = header && /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i > 0 ? { name: decoded.slice(0, i), secret: decoded.slice(i + 1) } : undefined;
}

/** A route for other services: HTTP Basic with SERVICE_CLIENTS instead of a member's access token. */
export function ServiceAuth() {
  return applyDecorators(
    Public(),
    UseGuards(ServiceClientGuard),
    ApiBasicAuth(),
    ApiUnauthorizedResponse({ type: ErrorResponse, description: 'SERVICE_UNAUTHORIZED' }),
  );
}
