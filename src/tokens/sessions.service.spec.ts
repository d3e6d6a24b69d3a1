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
