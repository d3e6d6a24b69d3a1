import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { AppConfig } from '../config/app-config';

export const REDACTED = '[REDACTED]';

/**
 * Paths pino removes from every log line. Request headers are not logged at all (see `serializeRequest`);
 * these catch the same secrets when code logs an object that holds them.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...[
    'authorization',
    'cookie',
    'password',
    'newPassword',
    'passwordHash',
    'token',
    'accessToken',
    'refreshToken',
    'idToken',
    'access_token',
    'refresh_token',
    'id_token',
    'authorizationCode',
    'codeVerifier',
    'code_verifier',
    'ticket',
    'linkTicket',
    'termsTicket',
    'secret',
    'clientSecret',
    'client_secret',
    'adminKey',
    'nonce',
  ].flatMap((k) => [k, `*.${k}`]),
  // `code` and `state` are also ordinary words (error codes), so they are removed only where they carry OAuth values.
  ...['body', 'query', 'params', 'form'].flatMap((where) => [`${where}.code`, `${where}.state`, `*.${where}.code`]),
];

/** Query parameters whose values are credentials (OAuth codes, states, tickets, tokens). */
const SECRET_QUERY_KEYS = new Set([
  'code',
  'state',
  'nonce',
  'ticket',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'code_verifier',
  'client_secret',
  'linkticket',
  'termsticket',
  // Kakao's unlink webhook (GET): a group token, and the Kakao user id, which is personal data.
  'group_user_token',
  'user_id',
]);

export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  // Works on the raw pairs so the rest of the query is logged exactly as received.
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawKey = eq < 0 ? pair : pair.slice(0, eq);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // undecodable key: compare it as it is
      }
      return SECRET_QUERY_KEYS.has(key.toLowerCase()) ? `${rawKey}=${REDACTED}` : pair;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

/**
 * The client's address where TRUST_PROXY makes it differ from the socket's peer, set on the raw request
 * before any logger sees it (app.factory.ts).
 */
export const CLIENT_ADDRESS = Symbol('clientAddress');

type RawRequest = IncomingMessage & { [CLIENT_ADDRESS]?: string };
/** What pino-http hands the serializer: its own copy of the request, the original as `raw`. */
type LoggedRequest = IncomingMessage & { id?: string; remoteAddress?: string; raw?: RawRequest };

function serializeRequest(req: LoggedRequest) {
  return {
    id: req.id,
    method: req.method,
    url: redactUrl(req.url),
    remoteAddress: req.raw?.[CLIENT_ADDRESS] ?? req.remoteAddress ?? req.socket?.remoteAddress,
  };
}

function serializeResponse(res: ServerResponse) {
  return { statusCode: res.statusCode };
}

const QUIET_ROUTES = /^\/(health\/|metrics)/;

/** The request being handled, for the lines logged meanwhile (set in `registerRequestLogging`). */
const currentRequest = new AsyncLocalStorage<IncomingMessage>();

export function pinoParams(config: AppConfig, stream?: DestinationStream): Params {
  return {
    pinoHttp: [
      {
        level: config.logLevel,
        redact: { paths: REDACT_PATHS, censor: REDACTED },
        genReqId: (req) => (req as IncomingMessage & { id?: string }).id ?? '',
        serializers: { req: serializeRequest, res: serializeResponse },
        // Requests are logged by the Fastify hook below: with Fastify, Nest middleware does not see every
        // request (404s, body-parser errors), and one hook is cheaper than middie plus pino-http.
        autoLogging: false,
        // A line written while a request is handled names it; worked out only for the lines written.
        mixin: () => {
          const req = currentRequest.getStore();
          return req ? { req } : {};
        },
        base: { service: 'kakao-auth' },
      },
      ...(stream ? [stream] : []),
    ] as Params['pinoHttp'],
    // nestjs-pino's middleware made a child logger per request, whose bindings pino redacts as it makes it
    // (about 14 µs on every request, logged or not; and its lines did not carry the request anyway).
    forRoutes: [],
  };
}

/**
 * One line per finished request (not for health checks and metrics scrapes), at error level for 5xx; and
 * the request as the context of the lines its handler writes.
 */
export function registerRequestLogging(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onRequest', (request, _reply, done) => currentRequest.run(request.raw, done));
  fastify.addHook('onResponse', (request, reply, done) => {
    if (!QUIET_ROUTES.test(request.url)) {
      const level = reply.statusCode >= 500 ? 'error' : 'info';
      logger[level](
        { req: request.raw, res: reply.raw, responseTime: Math.round(reply.elapsedTime) },
        'request completed',
      );
    }
    done();
  });
}

/** What the log keeps of an error. */
export interface LoggableError {
  name: string;
  message: string;
  /** A string code: SQLSTATE for a failed query, a Node or pg-boss code otherwise. */
  code?: string;
  /** An SMTP server's reply code. */
  responseCode?: number;
  stack?: string;
}

/** Error messages quote what they failed on: an SMTP server names the refused recipient, a link holds a token. */
const maskQuoted = (text: string, max: number) =>
  text
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    .replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, '[address]')
    .slice(0, max);

/**
 * What is logged of an error: its kind, masked message, code and (on request) masked stack. Nothing else of
 * it: a failed TypeORM query carries its parameters (emails, token hashes), PostgreSQL's `detail` quotes the
 * row, and job data holds personal data.
 */
export function loggableError(err: unknown, options: { stack?: boolean } = {}): LoggableError {
  // pg-boss reports worker errors as plain objects copied from the Error.
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const driverCode = (e.driverError as { code?: unknown } | undefined)?.code;
  const code = typeof e.code === 'string' ? e.code : typeof driverCode === 'string' ? driverCode : undefined;
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: maskQuoted(typeof e.message === 'string' ? e.message : String(err), 300),
    ...(code !== undefined ? { code } : {}),
    ...(typeof e.responseCode === 'number' ? { responseCode: e.responseCode } : {}),
    // The stack's first line repeats the message, so it is masked the same way.
    ...(options.stack && typeof e.stack === 'string' ? { stack: maskQuoted(e.stack, 4000) } : {}),
  };
}
