/**
 * The control API under /__emulator (a prefix real Kakao does not have): the KakaoEmulator methods over HTTP,
 * for processes that do not hold the emulator object (npm run dev, benchmarks, other test runners). JSON in,
 * JSON out; mistakes answer 400 `{error}`, unknown users 404.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CONTROL_PREFIX } from './faults';
import type { KakaoEmulator } from './index';
import { UnknownUserError } from './state';
import type { AccountStatusEventInput, Persona, UnlinkWebhookInput } from './types';

type Body = Record<string, unknown>;

const body = (value: unknown): Body =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : {};

const str = (b: Body, key: string): string => {
  const v = b[key];
  if (typeof v !== 'string' || !v) throw new BadRequest(`${key} (a string) is required`);
  return v;
};

const optStr = (b: Body, key: string): string | undefined => {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${key} must be a string`);
  return v;
};

const optList = (b: Body, key: string): string[] | undefined => {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new BadRequest(`${key} must be an array of strings`);
  return v;
};

class BadRequest extends Error {}

/** Runs a control action, mapping its failures to 400 / 404. */
async function run(reply: FastifyReply, action: () => unknown, status = 200): Promise<FastifyReply> {
  try {
    const result = await action();
    return reply.code(status).send(result ?? { ok: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return reply.code(err instanceof UnknownUserError ? 404 : 400).send({ error: message });
  }
}

export function registerControlApi(app: FastifyInstance, emulator: () => KakaoEmulator): void {
  const P = CONTROL_PREFIX;

  app.get(P, async (_req, reply) =>
    run(reply, () => {
      const e = emulator();
      return {
        url: e.url,
        issuer: e.issuer,
        appId: e.config.appId,
        restApiKey: e.config.restApiKey,
        redirectUris: e.config.redirectUris,
        logoutRedirectUris: e.config.logoutRedirectUris,
        serviceTerms: e.config.serviceTerms,
        nextUser: e.state.nextUser ?? null,
        autoLink: e.state.autoLink,
        tokenRateLimit: e.state.tokenRateLimit,
        personas: e.personas().map((p) => ({ id: p.id, key: p.key, nickname: p.nickname, linked: p.linked })),
      };
    }),
  );

  app.post(`${P}/next-user`, async (req, reply) =>
    run(reply, () => {
      const b = body(req.body);
      const userId = b.userId === null ? null : optStr(b, 'userId');
      emulator().setNextUser(userId);
      return { nextUser: userId ?? null };
    }),
  );

  app.get(`${P}/settings`, async (_req, reply) => run(reply, () => emulator().settings()));
  app.post(`${P}/settings`, async (req, reply) =>
    run(reply, () => {
      const b = body(req.body);
      // A misspelt setting would otherwise be a silent no-op.
      const unknown = Object.keys(b).filter((k) => k !== 'autoLink' && k !== 'tokenRateLimit');
      if (unknown.length) throw new BadRequest(`unknown settings: ${unknown.join(', ')}`);
      // Both checked before either changes: a refused request changes nothing.
      if (b.autoLink !== undefined && typeof b.autoLink !== 'boolean')
        throw new BadRequest('autoLink is true or false');
      if (b.tokenRateLimit !== undefined && typeof b.tokenRateLimit !== 'boolean')
        throw new BadRequest('tokenRateLimit is true or false');
      if (b.autoLink !== undefined) emulator().setAutoLink(b.autoLink);
      if (b.tokenRateLimit !== undefined) emulator().setTokenRateLimit(b.tokenRateLimit);
      return emulator().settings();
    }),
  );

  app.get(`${P}/personas`, async (_req, reply) => run(reply, () => emulator().personas()));
  app.post(`${P}/personas`, async (req, reply) =>
    run(reply, () => emulator().addPersona(body(req.body) as unknown as Persona), 201),
  );

  app.get<{ Params: { id: string } }>(`${P}/users/:id`, async (req, reply) =>
    run(reply, () => emulator().snapshot(req.params.id)),
  );
  app.post<{ Params: { id: string } }>(`${P}/users/:id/link`, async (req, reply) =>
    run(reply, () => {
      const b = body(req.body);
      const agreedBy = optStr(b, 'agreedBy');
      if (agreedBy !== undefined && agreedBy !== 'KAUTH' && agreedBy !== 'KAPI')
        throw new BadRequest('agreedBy is KAUTH or KAPI');
      if (b.signedUp !== undefined && typeof b.signedUp !== 'boolean')
        throw new BadRequest('signedUp is true or false');
      return emulator().linkUser(req.params.id, {
        scopes: optList(b, 'scopes'),
        terms: optList(b, 'terms'),
        agreedBy,
        signedUp: b.signedUp,
      });
    }),
  );
  app.post(`${P}/service-terms`, async (req, reply) =>
    run(reply, () => {
      const b = body(req.body);
      const tag = optStr(b, 'tag');
      if (!tag) throw new BadRequest('tag is required');
      if (typeof b.required !== 'boolean') throw new BadRequest('required is true or false');
      if (b.revocable !== undefined && typeof b.revocable !== 'boolean')
        throw new BadRequest('revocable is true or false');
      try {
        emulator().addServiceTerm({ tag, title: optStr(b, 'title'), required: b.required, revocable: b.revocable });
      } catch (err) {
        throw new BadRequest((err as Error).message);
      }
      return emulator().config.serviceTerms;
    }),
  );
  app.post<{ Params: { id: string } }>(`${P}/users/:id/unlink`, async (req, reply) =>
    run(reply, async () => {
      const b = body(req.body);
      const webhook = b.webhook === undefined ? undefined : body(b.webhook);
      const result = await emulator().unlinkUser(
        req.params.id,
        webhook ? { webhook: { ...(webhook as unknown as UnlinkWebhookInput), url: str(webhook, 'url') } } : {},
      );
      return { user: emulator().snapshot(req.params.id), webhook: result ?? null };
    }),
  );

  app.get(`${P}/faults`, async (_req, reply) => run(reply, () => emulator().faults()));
  app.post(`${P}/faults`, async (req, reply) =>
    run(reply, () => ({ id: emulator().injectFault(body(req.body)) }), 201),
  );
  app.delete(`${P}/faults`, async (_req, reply) => run(reply, () => emulator().clearFaults()));
  app.delete<{ Params: { id: string } }>(`${P}/faults/:id`, async (req, reply) =>
    run(reply, () => {
      if (!emulator().removeFault(req.params.id)) throw new BadRequest(`no fault ${req.params.id}`);
    }),
  );

  app.post(`${P}/keys/rotate`, async (_req, reply) => run(reply, async () => ({ kid: await emulator().rotateKeys() })));

  app.get(`${P}/calls`, async (_req, reply) => run(reply, () => emulator().callCounts()));
  app.get<{ Querystring: { method?: string; path?: string } }>(`${P}/requests`, async (req, reply) =>
    run(reply, () => emulator().requests({ method: req.query.method, path: req.query.path })),
  );

  // The emulator process's CPU time and memory: benchmarks divide requests by CPU seconds, which stays
  // meaningful on a shared machine where wall-clock rates do not.
  app.get(`${P}/process`, async (_req, reply) =>
    run(reply, () => ({
      pid: process.pid,
      cpu: process.cpuUsage(),
      rss: process.memoryUsage().rss,
      uptime: process.uptime(),
    })),
  );

  app.post(`${P}/reset`, async (_req, reply) => run(reply, () => emulator().reset()));

  app.post(`${P}/tokens`, async (req, reply) =>
    run(reply, () => {
      const b = body(req.body);
      return emulator().issueTokensFor(str(b, 'userId'), b);
    }),
  );

  app.post(`${P}/refresh-tokens/age`, async (req, reply) =>
    run(reply, () => {
      const b = body(req.body);
      const seconds =
        typeof b.remainingSeconds === 'number'
          ? b.remainingSeconds
          : typeof b.remainingDays === 'number'
            ? b.remainingDays * 86400
            : undefined;
      if (seconds === undefined) throw new BadRequest('remainingSeconds or remainingDays (a number) is required');
      emulator().ageRefreshToken(str(b, 'refreshToken'), seconds);
      return { remainingSeconds: emulator().refreshTokenRemaining(str(b, 'refreshToken')) };
    }),
  );
  app.post(`${P}/access-tokens/expire`, async (req, reply) =>
    run(reply, () => emulator().expireAccessToken(str(body(req.body), 'accessToken'))),
  );

  app.post(`${P}/webhooks/unlink`, async (req, reply) =>
    run(reply, () => {
      const b = body(req.body);
      const method = optStr(b, 'method')?.toUpperCase();
      if (method !== undefined && method !== 'GET' && method !== 'POST') throw new BadRequest('method is GET or POST');
      return emulator().sendUnlinkWebhook(str(b, 'url'), {
        ...(b as unknown as UnlinkWebhookInput),
        userId: str(b, 'userId'),
        method,
      });
    }),
  );
  app.post(`${P}/webhooks/account-status`, async (req, reply) =>
    run(reply, () => {
      const b = body(req.body);
      return emulator().sendAccountStatusEvent(str(b, 'url'), {
        ...(b as unknown as AccountStatusEventInput),
        userId: str(b, 'userId'),
      });
    }),
  );
}
