import { loggableError } from './queue.service';

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
});
