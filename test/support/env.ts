import { randomBytes } from 'node:crypto';

/** A complete, valid environment for tests; each test overrides what it is about. */
export function testEnvironment(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'http://127.0.0.1:3000',
    DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:5432/postgres',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    KAKAO_REST_API_KEY: 'test-rest-api-key',
    KAKAO_ADMIN_KEY: 'test-admin-key-0123456789abcdef',
    KAKAO_APP_ID: '1234567',
    // Suites log in many times from one address; the rate-limit tests set their own limit.
    RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    ...overrides,
  };
}
