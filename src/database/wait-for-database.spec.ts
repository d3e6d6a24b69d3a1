import { freePort } from '../../scripts/lib/ports';
import { databaseLabel, waitForDatabase } from './wait-for-database';

describe('waitForDatabase', () => {
  it('retries a database that is not listening yet, then fails with one line naming where, never the password', async () => {
    const port = await freePort();
    const retries: number[] = [];
    const url = `postgres://app:s3cret-pass@127.0.0.1:${port}/kakao_auth`;
    const failure = waitForDatabase(url, { attempts: 3, delayMs: 10, onRetry: (_reason, n) => retries.push(n) });
    await expect(failure).rejects.toThrow(
      new RegExp(
        `^cannot connect to the database at 127\\.0\\.0\\.1:${port}/kakao_auth \\(DATABASE_URL\\): .*ECONNREFUSED`,
      ),
    );
    await expect(failure).rejects.not.toThrow(/s3cret/);
    expect(retries).toEqual([1, 2]);
  });

  it('labels a URL without its credentials', () => {
    expect(databaseLabel('postgres://u:p@db.internal:5432/auth?sslmode=require')).toBe('db.internal:5432/auth');
    expect(databaseLabel('postgres://u:p@db/auth')).toBe('db/auth');
    expect(databaseLabel('not a url')).toBe('DATABASE_URL');
  });
});
