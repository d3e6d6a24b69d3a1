import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { sameSecret, secretDigest } from '../common/crypto/constant-time';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';

/**
 * Kakao's unlink webhook carries `Authorization: KakaoAK <admin key>` (KAKAO_API.md 7.1). Exactly one such
 * header with exactly that value passes: another scheme, a padded or doubled value, or a second header
 * (which Node would otherwise drop silently) is refused. Compared in constant time.
 */
@Injectable()
export class KakaoAdminKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@InjectConfig() config: AppConfig) {
    this.expected = secretDigest(`KakaoAK ${config.kakao.adminKey}`);
  }

  /** Whether a request's headers (Node's raw list, where a repeated header stays repeated) carry the key. */
  presentsKey(rawHeaders: string[]): boolean {
    const values: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      if (rawHeaders[i].toLowerCase() === 'authorization') values.push(rawHeaders[i + 1]);
    }
    return values.length === 1 && sameSecret(values[0], this.expected);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!this.presentsKey(request.raw.rawHeaders)) throw webhookUnauthorized();
    return true;
  }
}

export const webhookUnauthorized = () =>
  new AppException('WEBHOOK_UNAUTHORIZED', 'The Kakao admin key is missing or wrong');
