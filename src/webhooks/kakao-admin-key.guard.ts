import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { sameSecret, secretDigest } from '../common/crypto/constant-time';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';

/**
 * Kakao's unlink webhook carries `Authorization: KakaoAK <admin key>` (KAKAO_API.md 7.1). Exactly one such
 * header with exactly that key passes: another scheme, a padded or doubled value, or a second header (which
 * Node would otherwise drop silently) is refused. The scheme's case is free, as RFC 9110 11.1 says of every
 * scheme; the key is compared in constant time.
 */
const SCHEME = 'kakaoak ';

@Injectable()
export class KakaoAdminKeyGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@InjectConfig() config: AppConfig) {
    this.expected = secretDigest(config.kakao.adminKey);
  }

  /** Whether a request's headers (Node's raw list, where a repeated header stays repeated) carry the key. */
  presentsKey(rawHeaders: string[]): boolean {
    const values: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      if (rawHeaders[i].toLowerCase() === 'authorization') values.push(rawHeaders[i + 1]);
    }
    if (values.length !== 1) return false;
    const [value] = values;
    return (
      value.slice(0, SCHEME.length).toLowerCase() === SCHEME && sameSecret(value.slice(SCHEME.length), this.expected)
    );
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!this.presentsKey(request.raw.rawHeaders)) throw webhookUnauthorized();
    return true;
  }
}

export const webhookUnauthorized = () =>
  new AppException('WEBHOOK_UNAUTHORIZED', 'The Kakao admin key is missing or wrong');
