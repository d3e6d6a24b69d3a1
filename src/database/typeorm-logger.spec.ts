import { Logger } from '@nestjs/common';
import { TypeOrmNestLogger } from './typeorm-logger';

describe('TypeOrmNestLogger', () => {
  const logged = (spy: jest.SpyInstance) => spy.mock.calls.map((c) => String(c[0])).join('\n');
  afterEach(() => jest.restoreAllMocks());

  it('logs a failed statement and its error, never its parameters', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    new TypeOrmNestLogger().logQueryError(
      new Error('duplicate key value violates unique constraint "members_email_key"'),
      'INSERT INTO members (email, name)\n   VALUES ($1, $2)',
      ['kim@example.com', '김카카오'],
    );
    expect(error).toHaveBeenCalledTimes(1);
    expect(logged(error)).toBe(
      'Query failed: duplicate key value violates unique constraint "members_email_key" [INSERT INTO members (email, name) VALUES ($1, $2)]',
    );
  });

  it('cuts long statements and logs slow ones as warnings without parameters', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    new TypeOrmNestLogger().logQuerySlow(1200, `SELECT ${'x, '.repeat(500)}1`, ['v1.sealed-kakao-token']);
    const line = logged(warn);
    expect(line).toMatch(/^Slow query \(1200 ms\): SELECT x, x, /);
    expect(line.length).toBeLessThan(340);
    expect(line).not.toContain('sealed');
  });

  it('stays silent for ordinary statements', () => {
    const spies = (['log', 'warn', 'error', 'debug', 'verbose'] as const).map((m) =>
      jest.spyOn(Logger.prototype, m).mockImplementation(() => undefined),
    );
    new TypeOrmNestLogger().logQuery();
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });
});
