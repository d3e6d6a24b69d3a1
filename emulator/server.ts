import formbody from '@fastify/formbody';
import Fastify, { FastifyError, FastifyInstance } from 'fastify';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { EmulatorContext } from './context';
import { CONTROL_PREFIX } from './faults';
import { registerKapi } from './kapi';
import { registerKauth } from './kauth';
import { createTokenEndpoint, TOKEN_PATH, TokenEndpoint } from './token-endpoint';
import { flatten, JSON_UTF8, kapiError, kauthError } from './wire';

const KAUTH_PATHS = ['/oauth/', '/.well-known/'];
const BODY_LIMIT = 1024 * 1024;

/** The emulator's HTTP surface: kauth and kapi paths on one port (the control API is added by the caller). */
export async function buildServer(ctx: EmulatorContext): Promise<FastifyInstance> {
  const token = createTokenEndpoint(ctx);
  const app = Fastify({
    // No per-request logging unless asked: the token endpoint must stay lean (benchmarks).
    logger: ctx.config.logger ? { level: 'info' } : false,
    bodyLimit: BODY_LIMIT,
    // close() ends open connections at once: an emulator has nothing to drain.
    forceCloseConnections: true,
    serverFactory: (handler) =>
      createServer((req, res) => {
        // The token endpoint must sustain benchmark rates (≥5000 req/s on a core): a plain form POST skips
        // Fastify's routing, hooks and parsers and is answered directly. Anything unusual (a fault to apply,
        // logging on, a query string, another body type) takes the Fastify route, which answers the same.
        const type = req.headers['content-type'];
        if (
          req.method === 'POST' &&
          req.url === TOKEN_PATH &&
          !ctx.faults.faults.length &&
          !ctx.config.logger &&
          type !== undefined &&
          type.toLowerCase().startsWith('application/x-www-form-urlencoded')
        ) {
          fastToken(ctx, token, req, res);
        } else {
          handler(req, res);
        }
      }),
  });
  await app.register(formbody);
  ctx.faults.install(app);
  registerKauth(app, ctx, token);
  registerKapi(app, ctx);

  // Malformed bodies and the like answer in the dialect of the host the path belongs to.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (request.url.startsWith(CONTROL_PREFIX)) return reply.code(status).send({ error: error.message });
    if (KAUTH_PATHS.some((p) => request.url.startsWith(p))) {
      return kauthError(
        reply,
        status,
        status === 500 ? 'server_error' : 'invalid_request',
        error.message,
        status === 500 ? 'KOE003' : 'KOE001',
      );
    }
    return status === 500 ? kapiError(reply, -1, error.message) : kapiError(reply, -2, error.message);
  });
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith(CONTROL_PREFIX))
      return reply.code(404).send({ error: `no control route ${request.method} ${request.url}` });
    return reply
      .code(404)
      .header('content-type', 'text/plain; charset=utf-8')
      .send(`Not Found: ${request.method} ${request.url}`);
  });
  return app;
}

/** `POST /oauth/token` straight on Node's http objects, with the same counting and recording as the hooks. */
function fastToken(ctx: EmulatorContext, token: TokenEndpoint, req: IncomingMessage, res: ServerResponse): void {
  ctx.faults.countCall('POST', TOKEN_PATH);
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= BODY_LIMIT) chunks.push(chunk);
  });
  req.on('end', () => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': JSON_UTF8, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (size > BODY_LIMIT) {
      send(
        413,
        JSON.stringify({ error: 'invalid_request', error_description: 'request body too large', error_code: 'KOE001' }),
      );
      return;
    }
    const form = parseQuery(Buffer.concat(chunks).toString('utf8'));
    ctx.faults.record({
      method: 'POST',
      path: TOKEN_PATH,
      query: {},
      body: { ...form },
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
    });
    token(flatten(form)).then(
      (answer) => send(answer.status, answer.body),
      (err: unknown) =>
        send(
          500,
          JSON.stringify({
            error: 'server_error',
            error_description: err instanceof Error ? err.message : String(err),
            error_code: 'KOE003',
          }),
        ),
    );
  });
}
