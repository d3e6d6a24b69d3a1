import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
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
]);

export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) {
    if (SECRET_QUERY_KEYS.has(key.toLowerCase())) params.set(key, REDACTED);
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}

function serializeRequest(req: IncomingMessage & { id?: string; raw?: IncomingMessage }) {
  return {
    id: req.id,
    method: req.method,
    url: redactUrl(req.url),
    remoteAddress: req.socket?.remoteAddress,
  };
}

function serializeResponse(res: ServerResponse) {
  return { statusCode: res.statusCode };
}

const QUIET_ROUTES = /^\/(health\/|metrics)/;

export function pinoParams(config: AppConfig, stream?: DestinationStream): Params {
  return {
    pinoHttp: [
      {
        level: config.logLevel,
        redact: { paths: REDACT_PATHS, censor: REDACTED },
        genReqId: (req) => (req as IncomingMessage & { id?: string }).id ?? '',
        serializers: { req: serializeRequest, res: serializeResponse },
        customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
        autoLogging: { ignore: (req) => QUIET_ROUTES.test(req.url ?? '') },
        base: { service: 'kakao-auth' },
      },
      ...(stream ? [stream] : []),
    ] as Params['pinoHttp'],
  };
}
