import cors from '@fastify/cors';
import { NestFactory } from '@nestjs/core';
import { errorCodes } from 'fastify';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import type { AppConfig } from './config/app-config';
import { genRequestId, REQUEST_ID_HEADER } from './common/http/request-id';
import { ANSWER_HEADERS, isCorsPreflight } from './common/http/security-headers';
import { AppException } from './common/errors';
import { answerClientError, answerFrameworkError } from './common/errors/http-exception.filter';
import { createValidationPipe } from './common/validation';
import { MetricsService } from './metrics/metrics.service';
import { CLIENT_ADDRESS, registerRequestLogging } from './logging/logging';
import { setupSwagger } from './swagger';

/** Routes that take application/x-www-form-urlencoded bodies (besides JSON). */
const FORM_ROUTES = new Set(['/auth/introspect']);

/** Largest request body accepted; Kakao and our own payloads are far smaller. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Builds the fully configured application without listening: `main.ts` and the e2e tests use the same
 * function, so tests exercise exactly what production runs.
 */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: genRequestId,
    logger: false,
    // Long enough for any legitimate id in a path, short enough to refuse garbage early.
    routerOptions: { maxParamLength: 256 },
    // What Fastify and Node refuse before a route runs is answered in the error shape too (API.md).
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // Only the listed proxies' X-Forwarded-For entries are believed: `request.ip`, which the rate limits
    // key on, is then the first address, from the right, that no trusted proxy wrote.
    trustProxy: config.http.trustProxy.length > 0 ? config.http.trustProxy : false,
  });
  const fastify = adapter.getInstance();
  if (config.http.trustProxy.length > 0) {
    // The first hook of every request: the lines logged about it carry the client's address, not the proxy's.
    adapter.setOnRequestHook((request, _reply, done) => {
      (request.raw as typeof request.raw & { [CLIENT_ADDRESS]?: string })[CLIENT_ADDRESS] = request.ip;
      done();
    });
  }
  // Bodies are JSON (or forms for Kakao's webhooks); anything else is refused with 415 instead of reaching
  // a DTO as a bare string.
  fastify.removeContentTypeParser('text/plain');
  // Forms only where a standard posts them (RFC 7662 introspection; Kakao's unlink webhook has its own intake).
  // Elsewhere the API takes JSON, as its contract says: a form is a cross-site "simple request" any page can
  // make a browser send without a CORS preflight.
  // A body over the limit is left to the reader, so it is 413 whatever its type.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const form = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(request.headers['content-type'] ?? '');
    const oversized = Number(request.headers['content-length']) > BODY_LIMIT_BYTES;
    if (form && !oversized && !FORM_ROUTES.has(request.routeOptions.url ?? '')) {
      done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE());
    } else done(null, payload);
  });
  // Kakao's account status webhook posts a Security Event Token as the raw body (RFC 8935).
  fastify.addContentTypeParser('application/secevent+jwt', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  // Clients that always send Content-Type: application/json send it on bodiless calls too (logout, the
  // DELETEs): an empty body is then no body, as without the header, and a route that needs one refuses it.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else void parseJson(request as Parameters<typeof parseJson>[0], body.toString('utf8'), done);
  });
  app.useGlobalPipes(createValidationPipe());

  // Registered before CORS, whose preflight answers end the request in its own hook: they carry these too.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(ANSWER_HEADERS).header(REQUEST_ID_HEADER, request.id);
    // The CORS plugin would answer an OPTIONS that is no preflight with a bare text/plain 400.
    if (request.method === 'OPTIONS' && !isCorsPreflight(request.headers)) {
      answerFrameworkError(
        new AppException(
          'VALIDATION_FAILED',
          'OPTIONS is only answered as a CORS preflight (Origin and Access-Control-Request-Method)',
        ),
        request,
        reply,
      );
      return;
    }
    done();
  });

  // Front-ends (the origins of ALLOWED_RETURN_URLS) call the API from the browser, with credentials for the
  // login-binding cookie of POST /auth/kakao/authorize-url. No other origin is allowed.
  const origins = [...new Set(config.allowedReturnUrls.map((u) => new URL(u).origin))];
  await app.register(cors, {
    origin: origins,
    credentials: true,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });

  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  registerRequestLogging(fastify, PinoLogger.root);

  setupSwagger(app, config);
  await app.init();
  return app;
}
