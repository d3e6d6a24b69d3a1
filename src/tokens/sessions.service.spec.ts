import { Logger } from '@nestjs/common';
import type { AuditService } from '../audit/audit.service';
import type { AppConfig } from '../config/app-config';
import type { AccessTokenService } from './access-token.service';
import type { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

describe('SessionsService logout follow-ups', () => {
  const repository = {
    manager: { transaction: (work: (manager: object) => Promise<void>) => work({}) },
    revoke: async () => true,
  } as unknown as SessionsRepository;
  const audit = { record: async () => undefined } as unknown as AuditService;
  const service = () => new SessionsService(repository, {} as AccessTokenService, audit, {} as AppConfig);

  afterEach(() => jest.restoreAllMocks());

  it('runs every listener, and logs a failed one (masked) without failing the logout', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const sessions = service();
    const ran: string[] = [];
    sessions.addLogoutListener(async () => {
      throw new Error('could not delete the Kakao token of hong@example.com');
    });
    sessions.addLogoutListener(async (memberId) => void ran.push(memberId));

    await expect(sessions.logout({ memberId: 'm1', sessionId: 's1' }, {})).resolves.toBeUndefined();

    expect(ran).toEqual(['m1']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      { memberId: 'm1', error: { name: 'Error', message: 'could not delete the Kakao token of [address]' } },
      'A logout follow-up failed',
    );
  });

  it('logs nothing when every listener succeeds', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const sessions = service();
    sessions.addLogoutListener(async () => undefined);
    await sessions.logout({ memberId: 'm1', sessionId: 's1' }, {});
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('SessionsService logout that ends no session', () => {
  it('records it, but runs no follow-up (the Kakao token of a later login is not logged out)', async () => {
    const revoked: string[] = [];
    const repository = {
      manager: { transaction: (work: (manager: object) => Promise<unknown>) => work({}) },
      revoke: async () => false,
      revokeAllOfMember: async () => {
        revoked.push('all');
        return 2;
      },
      findTokenState: async () => ({ sessionId: 's0', memberId: 'm1', spent: false, sessionRevoked: true }),
    } as unknown as SessionsRepository;
    const recorded: unknown[] = [];
    const audit = { record: async (event: unknown) => void recorded.push(event) } as unknown as AuditService;
    const sessions = new SessionsService(repository, {} as AccessTokenService, audit, {} as AppConfig);
    const ran: string[] = [];
    sessions.addLogoutListener(async (memberId) => void ran.push(memberId));

    await sessions.logout({ memberId: 'm1', sessionId: 's1' }, { everywhere: true });
    await sessions.logout(undefined, { refreshToken: 'x'.repeat(43), everywhere: true });

    expect(ran).toEqual([]);
    expect(revoked).toEqual([]);
    expect(recorded).toEqual([
      expect.objectContaining({ type: 'session.logged_out', data: { everywhere: false, sessions: 0 } }),
      expect.objectContaining({ type: 'session.logged_out', data: { everywhere: false, sessions: 0 } }),
    ]);
  });
});
