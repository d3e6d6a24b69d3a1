import { getMetadataStorage } from 'class-validator';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildConfig, configWarnings, loadConfig } from './app-config';
import { ConfigError, Environment, validateEnvironment } from './environment';
import { PLACEHOLDER_SECRETS, weakSecretReason } from './secrets';

const STRONG = 'k3J9-vQ2x_Lm8pZt4Rw7Yb1Nc6Hd0Fg5Ea2Ss9Uo3Ii';
const base = (overrides: Record<string, string | undefined> = {}) => ({
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://u:p@db:5432/app',
  JWT_SECRET: STRONG,
  TOKEN_ENCRYPTION_KEY: Buffer.from('0123456789abcdef0123456789abcdef').toString('base64'),
  KAKAO_REST_API_KEY: 'rest',
  KAKAO_ADMIN_KEY: 'admin',
  KAKAO_APP_ID: '1234567',
  ...overrides,
});

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('builds a typed config with the documented defaults', () => {
    const c = loadConfig(base());
    expect(c.http).toEqual({
      port: 3000,
      host: '0.0.0.0',
      publicUrl: 'http://localhost:3000',
      demoEnabled: false,
      trustProxy: [],
    });
    expect(c.db).toEqual({ url: 'postgres://u:p@db:5432/app', migrationsRun: true, poolSize: 10 });
    expect(c.jwt).toMatchObject({
      issuer: 'http://localhost:3000',
      audience: 'kakao-auth',
      accessTokenTtl: 900,
      refreshTokenTtl: 2592000,
      refreshTokenIdleTtl: 1209600,
      previousSecrets: [],
    });
    expect(c.kakao).toMatchObject({
      redirectUri: 'http://localhost:3000/auth/kakao/callback',
      authBaseUrl: 'https://kauth.kakao.com',
      apiBaseUrl: 'https://kapi.kakao.com',
      issuer: 'https://kauth.kakao.com',
      scopes: ['openid', 'profile_nickname', 'account_email'],
      requiredItems: ['account_email'],
      httpTimeoutMs: 5000,
    });
    expect(c.allowedCodeRedirectUris).toEqual(['http://localhost:3000/auth/kakao/callback']);
    expect(c.unlinkWebhookPolicy).toBe('withdraw');
    expect(c.mailTransport).toBe('log');
    expect(c.queueWorkers).toBe(true);
    expect(c.tokenEncryptionKey).toHaveLength(32);
  });

  it('derives KAKAO_ISSUER from KAKAO_AUTH_BASE_URL without a trailing slash, and always asks for openid', () => {
    const c = loadConfig(
      base({ KAKAO_AUTH_BASE_URL: 'http://127.0.0.1:9080/', KAKAO_SCOPES: 'profile_nickname,account_email' }),
    );
    expect(c.kakao.issuer).toBe('http://127.0.0.1:9080');
    expect(c.kakao.scopes).toEqual(['openid', 'profile_nickname', 'account_email']);
  });

  // A deployment template that blanks unset variables asked for openid alone, and required no email.
  it('takes an empty KAKAO_SCOPES or KAKAO_REQUIRED_ITEMS as the default, and `none` as no required item', () => {
    const blank = loadConfig(base({ KAKAO_SCOPES: '', KAKAO_REQUIRED_ITEMS: '' }));
    expect(blank.kakao.scopes).toEqual(['openid', 'profile_nickname', 'account_email']);
    expect(blank.kakao.requiredItems).toEqual(['account_email']);
    expect(loadConfig(base({ KAKAO_REQUIRED_ITEMS: 'none' })).kakao.requiredItems).toEqual([]);
    expect(loadConfig(base({ KAKAO_REQUIRED_ITEMS: 'account_email,name' })).kakao.requiredItems).toEqual([
      'account_email',
      'name',
    ]);
  });

  it('parses lists and service clients', () => {
    const c = loadConfig(
      base({
        SERVICE_CLIENTS: 'orders:s3cr:et, billing:xyz',
        JWT_PREVIOUS_SECRETS: `${STRONG}A,${STRONG}B`,
        DB_MIGRATIONS_RUN: 'false',
        DB_POOL_SIZE: '25',
      }),
    );
    expect(c.serviceClients).toEqual([
      { name: 'orders', secret: 's3cr:et' },
      { name: 'billing', secret: 'xyz' },
    ]);
    expect(c.jwt.previousSecrets).toHaveLength(2);
    expect(c.db).toMatchObject({ migrationsRun: false, poolSize: 25 });
  });

  it('accepts a short SERVICE_CLIENTS secret but warns, naming the client and never the secret', () => {
    const c = loadConfig(
      base({
        SERVICE_CLIENTS: 'orders:a,billing:0123456789abcdef,legacy:short-secret',
        ALLOWED_RETURN_URLS: 'https://app.example.com/auth',
      }),
    );
    expect(c.serviceClients.map((client) => client.name)).toEqual(['orders', 'billing', 'legacy']);
    const warnings = configWarnings(c);
    expect(warnings).toEqual([
      expect.stringMatching(/^SERVICE_CLIENTS: the secret of client "orders" is shorter than 16 characters/),
      expect.stringMatching(/^SERVICE_CLIENTS: the secret of client "legacy" is shorter than 16 characters/),
    ]);
    expect(warnings.join(' ')).not.toContain('short-secret');
    expect(configWarnings(loadConfig(base({ ALLOWED_RETURN_URLS: 'https://app.example.com/auth' })))).toEqual([]);
  });

  it('warns when mail links would open a page that does not exist: no front-end and no demo page', () => {
    expect(configWarnings(loadConfig(base()))).toEqual([
      expect.stringMatching(/^ALLOWED_RETURN_URLS is empty and the demo page is off: the links in .* mails lead/),
    ]);
    expect(configWarnings(loadConfig(base({ DEMO_ENABLED: 'true' })))).toEqual([]);
    expect(configWarnings(loadConfig(base({ NODE_ENV: 'development' })))).toEqual([]);
  });

  it.each([
    ['DATABASE_URL', { DATABASE_URL: undefined }],
    ['JWT_SECRET', { JWT_SECRET: undefined }],
    ['TOKEN_ENCRYPTION_KEY', { TOKEN_ENCRYPTION_KEY: undefined }],
    ['KAKAO_REST_API_KEY', { KAKAO_REST_API_KEY: '' }],
    ['KAKAO_ADMIN_KEY', { KAKAO_ADMIN_KEY: undefined }],
    ['KAKAO_APP_ID', { KAKAO_APP_ID: 'abc' }],
    ['PORT', { PORT: 'eighty' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['DB_MIGRATIONS_RUN', { DB_MIGRATIONS_RUN: 'maybe' }],
    ['UNLINK_WEBHOOK_POLICY', { UNLINK_WEBHOOK_POLICY: 'delete' }],
    ['MAIL_TRANSPORT', { MAIL_TRANSPORT: 'carrier-pigeon' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['QUEUE_WORKERS', { QUEUE_WORKERS: 'sometimes' }],
    ['TOKEN_ENCRYPTION_KEY', { TOKEN_ENCRYPTION_KEY: randomBytes(16).toString('base64') }],
    ['SERVICE_CLIENTS', { SERVICE_CLIENTS: 'no-secret-here' }],
    ['ALLOWED_RETURN_URLS', { ALLOWED_RETURN_URLS: 'not a url' }],
  ])('refuses a missing or bad %s and names it', (name, overrides) => {
    const problems = problemsOf(base(overrides));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name} `));
  });

  it.each([
    [{ DATABASE_URL: undefined }, 'DATABASE_URL is required'],
    [{ JWT_SECRET: undefined }, 'JWT_SECRET is required'],
    [{ TOKEN_ENCRYPTION_KEY: '' }, 'TOKEN_ENCRYPTION_KEY is required'],
    [{ KAKAO_APP_ID: undefined }, 'KAKAO_APP_ID is required'],
    [{ PORT: 'eighty' }, 'PORT must be an integer number'],
    [{ PORT: '70000' }, 'PORT must not be greater than 65535'],
    [{ DB_MIGRATIONS_RUN: 'maybe' }, 'DB_MIGRATIONS_RUN must be true or false'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV must be one of the following values: development, test, production'],
    // Spaces only are no value.
    [{ KAKAO_ADMIN_KEY: '   ' }, 'KAKAO_ADMIN_KEY is required'],
    [{ KAKAO_REST_API_KEY: ' \t ' }, 'KAKAO_REST_API_KEY is required'],
    // One problem per variable, even when it breaks two rules or each entry of a list breaks one.
    [{ TOKEN_ENCRYPTION_KEY: 'abc' }, 'TOKEN_ENCRYPTION_KEY must be 32 bytes encoded in base64'],
    [{ JWT_PREVIOUS_SECRETS: 'short,short2' }, expect.stringMatching(/^JWT_PREVIOUS_SECRETS /)],
    [{ SERVICE_CLIENTS: 'a:,b' }, expect.stringMatching(/^SERVICE_CLIENTS /)],
  ])('says what is wrong with %p, naming the variable once', (overrides, problem) => {
    expect(problemsOf(base(overrides))).toEqual([problem]);
  });

  describe('TRUST_PROXY', () => {
    it.each([
      ['10.0.0.0/8', ['10.0.0.0/8']],
      [' 127.0.0.1 , 172.16.0.0/12,fd00::/8 ', ['127.0.0.1', '172.16.0.0/12', 'fd00::/8']],
      ['Loopback,uniquelocal', ['loopback', 'uniquelocal']],
      ['::1', ['::1']],
      ['false', []],
      ['', []],
    ])('takes %p as the proxies %p', (value, expected) => {
      expect(loadConfig(base({ TRUST_PROXY: value })).http.trustProxy).toEqual(expected);
    });

    it.each(['true', '1', '2'])('refuses %p, which would believe any client-written X-Forwarded-For', (value) => {
      expect(problemsOf(base({ TRUST_PROXY: value }))).toEqual([
        expect.stringMatching(
          /^TRUST_PROXY must list the addresses or CIDR ranges of the proxies .* not true or a count/,
        ),
      ]);
    });

    it.each([
      'proxy.internal',
      '10.0.0.0/33',
      'fd00::/129',
      '10.0.0.1/8/8',
      '10.0.0.0/',
      '10.0.0.0/255.0.0.0',
      '300.1.1.1',
    ])('refuses %p and names the entry', (value) => {
      expect(problemsOf(base({ TRUST_PROXY: `127.0.0.1,${value}` }))).toEqual([
        `TRUST_PROXY: "${value}" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal`,
      ]);
    });
  });

  it('reports every bad variable in one message', () => {
    try {
      loadConfig(base({ JWT_SECRET: undefined, KAKAO_APP_ID: undefined }));
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/^Invalid configuration: /);
      expect((err as Error).message).toContain('JWT_SECRET');
      expect((err as Error).message).toContain('KAKAO_APP_ID');
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('.env.example lists every variable under a comment that gives its default or says it is required', () => {
    const lines = readFileSync(path.join(__dirname, '../../.env.example'), 'utf8').split('\n');
    const names = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(Environment, '', true, false)
        .map((m) => m.propertyName),
    );
    const undocumented = [...names].filter((name) => {
      const at = lines.findIndex((line) => line.startsWith(`${name}=`));
      if (at < 0) return true;
      // The comment lines right above the block of variables this one belongs to.
      let i = at;
      while (i > 0 && /^[A-Z0-9_]+=/.test(lines[i - 1])) i--;
      const comment: string[] = [];
      while (i > 0 && lines[i - 1].startsWith('# ')) comment.unshift(lines[--i]);
      return !/Default|Required/.test(comment.join(' '));
    });
    expect(undocumented).toEqual([]);
  });

  describe('secret strength', () => {
    it.each([
      ['too short', 'short-secret'],
      ['a placeholder', 'change-me-to-a-random-string-of-at-least-32-bytes'],
      ['a placeholder word inside', 'please-changeme-this-is-very-long-12345678'],
      ['low entropy', 'a'.repeat(40)],
    ])('refuses a JWT_SECRET that is %s in production', (_why, secret) => {
      expect(problemsOf(base({ JWT_SECRET: secret }))).toEqual([expect.stringMatching(/^JWT_SECRET /)]);
    });

    it('refuses a weak previous secret too', () => {
      expect(problemsOf(base({ JWT_PREVIOUS_SECRETS: 'short' }))).toEqual([
        expect.stringMatching(/^JWT_PREVIOUS_SECRETS /),
      ]);
    });

    it('refuses every secret value of .env.example', () => {
      const example = readFileSync(path.join(__dirname, '../../.env.example'), 'utf8');
      const value = (name: string) => example.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1] ?? '';
      expect(problemsOf(base({ JWT_SECRET: value('JWT_SECRET') }))).toEqual([
        expect.stringMatching(/^JWT_SECRET is a placeholder/),
      ]);
      expect(problemsOf(base({ TOKEN_ENCRYPTION_KEY: value('TOKEN_ENCRYPTION_KEY') }))).toEqual([
        expect.stringMatching(/^TOKEN_ENCRYPTION_KEY is a placeholder/),
      ]);
      for (const name of ['JWT_SECRET', 'TOKEN_ENCRYPTION_KEY', 'KAKAO_ADMIN_KEY']) {
        expect(PLACEHOLDER_SECRETS).toContain(value(name));
      }
    });

    it('refuses weak secrets whatever NODE_ENV says', () => {
      for (const NODE_ENV of ['development', 'test', 'production', undefined]) {
        expect(problemsOf(base({ NODE_ENV, JWT_SECRET: 'dev' }))).toEqual([
          expect.stringMatching(/^JWT_SECRET must be at least 32 bytes/),
        ]);
        expect(
          problemsOf(base({ NODE_ENV, JWT_PREVIOUS_SECRETS: `${STRONG},change-me-please-0123456789abcdef` })),
        ).toEqual([expect.stringMatching(/^JWT_PREVIOUS_SECRETS is a placeholder/)]);
      }
    });

    it('refuses the placeholder admin key, whose holder could send unlink webhooks', () => {
      expect(problemsOf(base({ KAKAO_ADMIN_KEY: 'change-me-kakao-admin-key' }))).toEqual([
        'KAKAO_ADMIN_KEY is a placeholder value',
      ]);
      expect(problemsOf(base({ KAKAO_ADMIN_KEY: '0f1e2d3c4b5a69788796a5b4c3d2e1f0' }))).toEqual([]);
    });

    it('accepts a strong random secret', () => {
      expect(weakSecretReason(STRONG)).toBeNull();
      expect(() => buildConfig(validateEnvironment(base()))).not.toThrow();
    });
  });
});
