/* eslint-disable @typescript-eslint/no-explicit-any -- contract tests read JSON bodies freely */
import formbody from '@fastify/formbody';
import Fastify, { FastifyInstance } from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { KakaoEmulator, SET_EVENT_TYPES, startKakaoEmulator } from './index';

/** Kakao's webhooks as the emulator sends them (KAKAO_API.md 7), received by a tiny Fastify server. */
describe('Kakao emulator: webhooks', () => {
  const USER = '4000000000000001007';
  let kakao: KakaoEmulator;
  let receiver: FastifyInstance;
  let receiverUrl: string;
  const received: Array<{ method: string; url: string; headers: Record<string, unknown>; body: unknown }> = [];
  let answer = { status: 200, delayMs: 0 };

  beforeAll(async () => {
    kakao = await startKakaoEmulator({
      restApiKey: 'rest-key',
      adminKey: 'admin-key',
      appId: '1234567',
      redirectUris: ['http://localhost/cb'],
    });
    receiver = Fastify({ forceCloseConnections: true });
    await receiver.register(formbody);
    receiver.addContentTypeParser('application/secevent+jwt', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    receiver.all('/*', async (req, reply) => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: req.body });
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      return reply.code(answer.status).send('');
    });
    receiverUrl = await receiver.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await receiver.close();
    await kakao.close();
  });
  beforeEach(() => {
    kakao.reset();
    received.length = 0;
    answer = { status: 200, delayMs: 0 };
  });

  async function control(path: string, body: unknown) {
    const res = await fetch(`${kakao.url}/__emulator${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  describe('unlink webhook', () => {
    it('POSTs a form with app_id, user_id (string) and referrer_type, KakaoAK admin key; returns the status', async () => {
      const res = await control('/webhooks/unlink', {
        url: `${receiverUrl}/webhooks/kakao/unlink`,
        userId: USER,
        referrerType: 'UNLINK_FROM_APPS',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 200 });
      expect(received).toHaveLength(1);
      const [hook] = received;
      expect(hook.method).toBe('POST');
      expect(hook.url).toBe('/webhooks/kakao/unlink');
      expect(hook.headers.authorization).toBe('KakaoAK admin-key');
      expect(hook.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=utf-8');
      expect(hook.headers['user-agent']).toBe('KakaoOpenAPI/1.0');
      expect(hook.body).toEqual({ app_id: '1234567', user_id: USER, referrer_type: 'UNLINK_FROM_APPS' });
    });

    it('sends GET with a query string when asked', async () => {
      const result = await kakao.sendUnlinkWebhook(`${receiverUrl}/hook`, {
        userId: USER,
        method: 'GET',
        referrerType: 'ACCOUNT_DELETE',
      });
      expect(result.status).toBe(200);
      expect(received[0].method).toBe('GET');
      expect(received[0].url).toBe(`/hook?app_id=1234567&user_id=${USER}&referrer_type=ACCOUNT_DELETE`);
      expect(received[0].headers.authorization).toBe('KakaoAK admin-key');
      expect(received[0].headers['user-agent']).toBe('KakaoOpenAPI/1.0');
    });

    it('reports the receiver’s refusal and a wrong key on request', async () => {
      answer.status = 401;
      const result = await kakao.sendUnlinkWebhook(`${receiverUrl}/hook`, { userId: USER, adminKey: 'wrong' });
      expect(result.status).toBe(401);
      expect(received[0].headers.authorization).toBe('KakaoAK wrong');
    });

    it('unlinkUser changes the state and then sends the webhook', async () => {
      const result = await kakao.unlinkUser(USER, {
        webhook: { url: `${receiverUrl}/hook`, referrerType: 'UNLINK_FROM_APPS' },
      });
      expect(result?.status).toBe(200);
      expect(kakao.isLinked(USER)).toBe(false);
      expect(received[0].body).toMatchObject({ user_id: USER });
    });

    it('gives up after Kakao’s 3 s and reports status 0', async () => {
      answer.delayMs = 3500;
      const result = await kakao.sendUnlinkWebhook(`${receiverUrl}/slow`, { userId: USER });
      expect(result).toMatchObject({ status: 0, error: 'timeout' });
      expect(result.durationMs).toBeGreaterThanOrEqual(2900);
      expect(result.durationMs).toBeLessThan(3400);
    }, 10_000);
  });

  describe('account status change webhook (SET)', () => {
    it('POSTs an application/secevent+jwt token signed with the emulator’s JWKS key', async () => {
      const res = await control('/webhooks/account-status', {
        url: `${receiverUrl}/webhooks/kakao/account-events`,
        userId: USER,
        event: 'user-unlinked',
        reason: 'UNLINK_FROM_APPS',
      });
      expect(res.body).toMatchObject({ status: 200, jti: expect.any(String), token: expect.any(String) });
      const [hook] = received;
      expect(hook.method).toBe('POST');
      expect(hook.headers['content-type']).toBe('application/secevent+jwt');
      expect(hook.headers['user-agent']).toBe('KakaoOpenAPI/1.0');
      expect(hook.body).toBe(res.body.token);
      const { payload, protectedHeader } = await jwtVerify(
        hook.body as string,
        createRemoteJWKSet(new URL(`${kakao.url}/.well-known/jwks.json`)),
        {
          issuer: kakao.url,
          audience: 'rest-key',
          typ: 'secevent+jwt',
          algorithms: ['RS256'],
        },
      );
      expect(protectedHeader).toEqual({ kid: kakao.currentKid, typ: 'secevent+jwt', alg: 'RS256' });
      expect(Object.keys(payload)).toEqual(['iss', 'aud', 'sub', 'iat', 'jti', 'toe', 'txm', 'events']);
      expect(payload).toMatchObject({ sub: USER, jti: res.body.jti });
      expect(payload.events).toEqual({
        'https://schemas.openid.net/secevent/oauth/event-type/user-unlinked': {
          subject: { subject_type: 'iss-sub', iss: kakao.url, sub: USER },
          reason: 'UNLINK_FROM_APPS',
        },
      });
    });

    it('accepts full event URIs and extra event data; reports a 400 refusal', async () => {
      answer.status = 400;
      const result = await kakao.sendAccountStatusEvent(`${receiverUrl}/events`, {
        userId: USER,
        event: SET_EVENT_TYPES['user-profile-changed'],
        eventData: { changed: ['nickname'] },
        audience: 'other-app',
      });
      expect(result.status).toBe(400);
      const payload = JSON.parse(
        Buffer.from((received[0].body as string).split('.')[1], 'base64url').toString(),
      ) as Record<string, any>;
      expect(payload.aud).toBe('other-app');
      expect(payload.events[SET_EVENT_TYPES['user-profile-changed']]).toMatchObject({ changed: ['nickname'] });
    });

    it('refuses an unknown short event name', async () => {
      const res = await control('/webhooks/account-status', { url: `${receiverUrl}/x`, userId: USER, event: 'nope' });
      expect(res.status).toBe(400);
      expect(received).toHaveLength(0);
    });
  });
});
