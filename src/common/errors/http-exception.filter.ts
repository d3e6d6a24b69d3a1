import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { loggableError } from '../../logging/logging';
import { REQUEST_ID_HEADER } from '../http/request-id';
import { ANSWER_HEADERS } from '../http/security-headers';
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
  FST_ERR_BAD_URL: 'The URL is malformed',
  FST_ERR_MAX_PARAM_LENGTH: 'A path parameter is too long',
  HPE_HEADER_OVERFLOW: 'The request headers are too large',
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
      this.logger.error(
        { err: loggableError(exception, { stack: true }), requestId: request.id, route: request.routeOptions?.url },
        'Unhandled error',
      );
    }
    void reply
      .status(problem.status)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(errorBody(problem, String(request.id)));
  }
}

/**
 * Fastify's `frameworkErrors`: what it refuses before routing (a malformed URL, a path parameter longer
 * than maxParamLength) in the error shape too. Its default answer has another shape and echoes the URL.
 */
export function answerFrameworkError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const problem = toProblem(error);
  void reply
    .status(problem.status)
    .headers(ANSWER_HEADERS)
    .header(REQUEST_ID_HEADER, request.id)
    .type('application/json; charset=utf-8')
    .send(errorBody(problem, String(request.id)));
}

/** Node's HTTP parser errors, by their code: the status Fastify's own handler answers. */
const CLIENT_ERROR_STATUS: Record<string, number> = { HPE_HEADER_OVERFLOW: 431, ERR_HTTP_REQUEST_TIMEOUT: 408 };

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refuses (headers over 16 KiB, a malformed
 * request line or header) never reaches Fastify; it is answered on the socket, in the error shape, and the
 * connection is closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? HttpStatus.BAD_REQUEST;
  const requestId = randomUUID();
  const body = JSON.stringify(errorBody(toProblem({ statusCode: status, code: error.code }), requestId));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Cache-Control: no-store\r\n${REQUEST_ID_HEADER}: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}
