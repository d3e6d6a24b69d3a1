import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorCodes } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { answerFrameworkError } from '../common/errors/http-exception.filter';
import { webhookUnauthorized } from './kakao-admin-key.guard';

export const UNLINK_PATH = '/webhooks/kakao/unlink';
export const ACCOUNT_EVENTS_PATH = '/webhooks/kakao/account-events';

/** The body of a webhook POST as a string, whatever it claimed to be; only for requests this intake let in. */
const RAW_BODY_TYPE = 'application/x.kakao-webhook-raw';
const originalTypes = new WeakMap<IncomingMessage, string | undefined>();

/** The Content-Type a webhook POST arrived with (its body is then the raw string). */
export const originalContentType = (request: FastifyRequest): string | undefined => originalTypes.get(request.raw);

/**
 * What Kakao's webhooks need before the framework reads the body:
 *
 * - The unlink webhook's key is checked first (KAKAO_API.md 7.1): a call without it is a 401 whatever its
 *   body, never a 400 or 415 that would tell a stranger how the body is read.
 * - With the key, the body is taken raw, and the controller reads it: Kakao wants 200 for every
 *   authenticated call (malformed or not), and ids written as JSON numbers must keep their digits.
 * - The account status webhook's SET is read raw whatever the Content-Type (RFC 8935 names
 *   application/secevent+jwt; a sender that gets it wrong still gets an RFC 8935 answer, not our 415).
 *
 * Routes cannot have their own body parsers under Nest, so the request's Content-Type is replaced by a
 * private type for these two routes only; the parser of that type refuses every other request.
 */
export function installWebhookIntake(
  fastify: FastifyInstance,
  presentsKey: (rawHeaders: string[]) => boolean,
  onRefused: () => void,
): void {
  fastify.addContentTypeParser(RAW_BODY_TYPE, { parseAs: 'string' }, (request, body, done) => {
    if (originalTypes.has(request.raw)) done(null, body);
    else done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE());
  });
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = request.routeOptions.url;
    if (route !== UNLINK_PATH && route !== ACCOUNT_EVENTS_PATH) return done();
    if (route === UNLINK_PATH && !presentsKey(request.raw.rawHeaders)) {
      onRefused();
      answerFrameworkError(webhookUnauthorized(), request, reply);
      return;
    }
    // Fastify answers HEAD with the GET handler; a HEAD must not unlink anyone (RFC 9110 9.3.2).
    if (request.method === 'HEAD') {
      void reply.code(200).send();
      return;
    }
    if (request.method === 'POST') {
      originalTypes.set(request.raw, request.raw.headers['content-type']);
      request.raw.headers['content-type'] = RAW_BODY_TYPE;
    }
    done();
  });
}
