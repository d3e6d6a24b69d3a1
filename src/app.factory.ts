import cors from '@fastify/cors';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import type { AppConfig } from './config/app-config';
import { genRequestId, REQUEST_ID_HEADER } from './common/http/request-id';
import { SECURITY_HEADER_OPTIONS, staticSecurityHeaders } from './common/http/security-headers';
import { answerClientError, answerFrameworkError } from './common/errors/http-exception.filter';
import { createValidationPipe } from './common/validation';
import { MetricsService } from './metrics/metrics.service';
import { registerRequestLogging } from './logging/logging';
import { setupSwagger } from './swagger';

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
  });
  const fastify = adapter.getInstance();
  // Bodies are JSON (or forms for Kakao's webhooks); anything else is refused with 415 instead of reaching
  // a DTO as a bare string.
  fastify.removeContentTypeParser('text/plain');
  // Kakao's account status webhook posts a Security Event Token as the raw body (RFC 8935).
  fastify.addContentTypeParser('application/secevent+jwt', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(createValidationPipe());

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
  // helmet's headers worked out once (see staticSecurityHeaders): no route needs its own and no nonces are used.
  const securityHeaders = staticSecurityHeaders(SECURITY_HEADER_OPTIONS);
  fastify.addHook('onRequest', (request, reply, done) => {
    // no-store by default: answers carry tokens (RFC 6749 5.1 requires it there) or personal data, and no
    // answer of this API is meant for a shared cache. A route that serves something cacheable says so itself.
    void reply.headers(securityHeaders).header('cache-control', 'no-store').header(REQUEST_ID_HEADER, request.id);
    done();
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
