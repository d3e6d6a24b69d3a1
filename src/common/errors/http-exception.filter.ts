import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from './app.exception';
import { ErrorCode } from './error-codes';
import { ErrorResponse } from './error-response';

interface Problem {
  status: number;
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** Fastify's own request errors (body parsing, limits) carry a FST_ code and a 4xx statusCode. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty but Content-Type is application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
};

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case HttpStatus.UNAUTHORIZED:
      return 'UNAUTHENTICATED';
    case HttpStatus.FORBIDDEN:
      return 'FORBIDDEN';
    case HttpStatus.NOT_FOUND:
    case HttpStatus.METHOD_NOT_ALLOWED:
      return 'NOT_FOUND';
    case HttpStatus.TOO_MANY_REQUESTS:
      return 'RATE_LIMITED';
    case HttpStatus.SERVICE_UNAVAILABLE:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 400 && status < 500 ? 'VALIDATION_FAILED' : 'INTERNAL_ERROR';
  }
}

function messageOf(response: unknown, fallback: string): string {
  if (typeof response === 'string') return response;
  const m = (response as { message?: unknown })?.message;
  if (typeof m === 'string') return m;
  return fallback;
}

/** Turns anything thrown into the error shape of API.md. Only 5xx are logged, and never with request bodies. */
export function toProblem(exception: unknown): Problem {
  if (exception instanceof AppException) {
    return { status: exception.status, code: exception.code, message: exception.message, details: exception.details };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    // Terminus answers 503 with its check results: they are the useful part for an operator.
    const details =
      status === HttpStatus.SERVICE_UNAVAILABLE && typeof response === 'object' && response && 'error' in response
        ? response.error
        : undefined;
    const message = status === HttpStatus.NOT_FOUND ? 'Not found' : messageOf(response, exception.message);
    return { status, code: codeForStatus(status), message, details };
  }
  const err = exception as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof err?.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    const fastifyMessage = typeof err.code === 'string' ? FASTIFY_MESSAGES[err.code] : undefined;
    return {
      status: err.statusCode,
      code: codeForStatus(err.statusCode),
      message: fastifyMessage ?? 'The request is invalid',
    };
  }
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, code: 'INTERNAL_ERROR', message: 'Internal server error' };
}

export function errorBody(problem: Problem, requestId: string): ErrorResponse {
  const body: ErrorResponse = {
    statusCode: problem.status,
    code: problem.code,
    message: problem.message,
    requestId,
  };
  if (problem.details !== undefined) body.details = problem.details;
  return body;
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const problem = toProblem(exception);
    if (problem.status >= 500 && problem.code === 'INTERNAL_ERROR') {
      this.logger.error({ err: exception, requestId: request.id, route: request.routeOptions?.url }, 'Unhandled error');
    }
    void reply
      .status(problem.status)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(errorBody(problem, String(request.id)));
  }
}
