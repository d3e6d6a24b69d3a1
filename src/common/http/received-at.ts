import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { performance } from 'node:perf_hooks';

/** When the request reached the server, on the performance.now() clock (Fastify tracks the elapsed time). */
export const ReceivedAt = createParamDecorator(
  (_: unknown, context: ExecutionContext): number =>
    performance.now() - context.switchToHttp().getResponse<FastifyReply>().elapsedTime,
);

/** The id Fastify gave the request (x-request-id), for audit events. */
export const RequestId = createParamDecorator(
  (_: unknown, context: ExecutionContext): string => context.switchToHttp().getRequest<{ id: string }>().id,
);
