import { loggableError, redactUrl } from './logging';

describe('redactUrl', () => {
  it('hides OAuth values and the unlink webhook’s Kakao user id, keeping the rest as received', () => {
    expect(redactUrl('/auth/kakao/callback?code=abc&state=xyz&foo=1')).toBe(
      '/auth/kakao/callback?code=[REDACTED]&state=[REDACTED]&foo=1',
    );
    expect(
      redactUrl('/webhooks/kakao/unlink?app_id=1&user_id=4000000000000001001&referrer_type=UNLINK_FROM_APPS'),
    ).toBe('/webhooks/kakao/unlink?app_id=1&user_id=[REDACTED]&referrer_type=UNLINK_FROM_APPS');
    expect(redactUrl('/health/ready')).toBe('/health/ready');
  });
});

describe('loggableError', () => {
  it('masks addresses and URLs that error messages quote', () => {
    const err = Object.assign(
      new Error("Can't send mail - all recipients were rejected: 550 5.1.1 <hong@example.com>: no such user"),
      { code: 'EENVELOPE', responseCode: 550 },
    );
    expect(loggableError(err)).toEqual({
      name: 'Error',
      code: 'EENVELOPE',
      responseCode: 550,
      message: "Can't send mail - all recipients were rejected: 550 5.1.1 <[address]>: no such user",
    });
    expect(loggableError(new Error('bad link https://app.example.com/#token=abc in job')).message).toBe(
      'bad link [url] in job',
    );
    expect(loggableError('plain')).toEqual({ name: 'Error', message: 'plain' });
    // pg-boss's worker errors are copies of the Error's fields
    expect(loggableError({ message: 'connection lost (Queue: mail-send)', queue: 'mail-send' })).toEqual({
      name: 'Error',
      message: 'connection lost (Queue: mail-send)',
    });
  });

  it("keeps a failed query's SQLSTATE, and a stack only when asked, masked like the message", () => {
    const failed = Object.assign(new Error('duplicate key value violates unique constraint "members_email_key"'), {
      name: 'QueryFailedError',
      parameters: ['leaked.person@example.com'],
      driverError: { code: '23505', detail: 'Key (email)=(leaked.person@example.com) already exists.' },
    });
    expect(loggableError(failed)).toEqual({
      name: 'QueryFailedError',
      code: '23505',
      message: 'duplicate key value violates unique constraint "members_email_key"',
    });
    const quoting = new Error('mail to hong@example.com failed');
    const { stack } = loggableError(quoting, { stack: true });
    expect(stack).toMatch(/^Error: mail to \[address\] failed\n\s+at /);
    expect(JSON.stringify(loggableError(failed, { stack: true }))).not.toContain('leaked.person');
  });
});
