import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';

/**
 * Drops the query parameters a route's DTO does not declare, before the global ValidationPipe (which refuses
 * them) sees the query. For the browser-facing GET routes only: links into /auth/kakao/login carry marketing
 * parameters (`utm_source`), and Kakao adds its own to the callback (`error_code=KOE101`) beside the
 * documented ones. The declared parameters are still validated, duplicates included.
 */
@Injectable()
export class IgnoreUnknownQuery implements NestInterceptor {
  private readonly known: Set<string>;

  constructor(dto: new () => object) {
    // Inherited properties included: class-validator's storage walks the prototype chain.
    this.known = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(dto, '', true, false)
        .map((m) => m.propertyName),
    );
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const query = context.switchToHttp().getRequest<FastifyRequest>().query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object') {
      for (const name of Object.keys(query)) if (!this.known.has(name)) delete query[name];
    }
    return next.handle();
  }
}
