import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { emulatorOptionsFromEnv, loadPersonas, startKakaoEmulator } from './index';

/** The personas fixture and the option parsing of the standalone runner. */
describe('Kakao emulator: personas and options', () => {
  const personas = loadPersonas();

  it('has every required persona, with string ids above 2^53', () => {
    const keys = personas.map((p) => p.key);
    for (const key of [
      'full',
      'no-email-consent',
      'email-unverified',
      'email-invalid',
      'no-name',
      'lunar-leap',
      'terms-agreed',
      'terms-missing',
      'dormant',
    ]) {
      expect(keys).toContain(key);
    }
    for (const p of personas) {
      expect(typeof p.id).toBe('string');
      expect(BigInt(p.id) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    }
  });

  it('describes the documented edge cases', () => {
    const by = (key: string) => personas.find((p) => p.key === key)!;
    expect(by('full').phoneNumber).toBe('+82 010-1234-5678');
    expect(by('email-unverified')).toMatchObject({ isEmailValid: true, isEmailVerified: false });
    expect(by('email-invalid')).toMatchObject({ isEmailValid: false });
    expect(by('no-name').name).toBeUndefined();
    expect(by('lunar-leap')).toMatchObject({ birthdayType: 'LUNAR', isLeapMonth: true });
    expect(by('no-email-consent').declines).toContain('account_email');
    expect(by('terms-agreed')).toMatchObject({
      linked: true,
      agreedTerms: expect.arrayContaining(['service_2024', 'privacy_2024']),
    });
    expect(by('terms-missing').agreedTerms).not.toContain('privacy_2024');
    expect(by('dormant').dormant).toBe(true);
  });

  it('refuses numeric ids (JSON numbers above 2^53 have already lost digits) and duplicates', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'personas-'));
    const numeric = path.join(dir, 'numeric.json');
    writeFileSync(numeric, '[{"id": 4000000000000001001}]');
    expect(() => loadPersonas(numeric)).toThrow(/decimal string/);
    const dup = path.join(dir, 'dup.json');
    writeFileSync(dup, '[{"id": "4000000000000001001"}, {"id": "4000000000000001001"}]');
    expect(() => loadPersonas(dup)).toThrow(/duplicate/);
  });

  it('starts with a personas file of its own', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'personas-'));
    const file = path.join(dir, 'p.json');
    writeFileSync(file, JSON.stringify([{ id: '9223372036854775807', nickname: 'max' }]));
    const kakao = await startKakaoEmulator({
      restApiKey: 'k',
      adminKey: 'a',
      appId: '1',
      redirectUris: ['http://localhost/cb'],
      personasFile: file,
    });
    try {
      expect(kakao.personas().map((p) => p.id)).toEqual(['9223372036854775807']);
    } finally {
      await kakao.close();
    }
  });

  it('parses the runner’s environment', () => {
    expect(
      emulatorOptionsFromEnv({
        EMULATOR_PORT: '9181',
        EMULATOR_HOST: '0.0.0.0',
        KAKAO_REST_API_KEY: 'rest',
        KAKAO_CLIENT_SECRET: 'secret',
        KAKAO_ADMIN_KEY: 'admin',
        KAKAO_APP_ID: '77',
        EMULATOR_REDIRECT_URIS: 'http://a/cb, http://b/cb',
        EMULATOR_LOGOUT_REDIRECT_URIS: 'http://a/bye',
        KAKAO_EXTRA_AUDIENCES: 'native,js',
      }),
    ).toMatchObject({
      port: 9181,
      host: '0.0.0.0',
      restApiKey: 'rest',
      clientSecret: 'secret',
      adminKey: 'admin',
      appId: '77',
      redirectUris: ['http://a/cb', 'http://b/cb'],
      logoutRedirectUris: ['http://a/bye'],
      extraAppKeys: ['native', 'js'],
    });
    expect(emulatorOptionsFromEnv({})).toMatchObject({ port: 9080, host: '127.0.0.1', clientSecret: undefined });
    expect(() => emulatorOptionsFromEnv({ EMULATOR_PORT: 'x' })).toThrow(/EMULATOR_PORT/);
  });

  it('EMULATOR_TOKEN_RATE_LIMIT: only true or 1 switch the token rate limit on', () => {
    expect(emulatorOptionsFromEnv({}).tokenRateLimit).toBe(false);
    expect(emulatorOptionsFromEnv({ EMULATOR_TOKEN_RATE_LIMIT: 'true' }).tokenRateLimit).toBe(true);
    expect(emulatorOptionsFromEnv({ EMULATOR_TOKEN_RATE_LIMIT: '1' }).tokenRateLimit).toBe(true);
    for (const value of ['false', '0', '', 'on']) {
      expect(emulatorOptionsFromEnv({ EMULATOR_TOKEN_RATE_LIMIT: value }).tokenRateLimit).toBe(false);
    }
  });

  it('EMULATOR_AUTO_LINK: only false or 0 switch auto-link off', () => {
    expect(emulatorOptionsFromEnv({}).autoLink).toBe(true);
    expect(emulatorOptionsFromEnv({ EMULATOR_AUTO_LINK: 'false' }).autoLink).toBe(false);
    expect(emulatorOptionsFromEnv({ EMULATOR_AUTO_LINK: '0' }).autoLink).toBe(false);
    for (const value of ['true', '1', '', 'off']) {
      expect(emulatorOptionsFromEnv({ EMULATOR_AUTO_LINK: value }).autoLink).toBe(true);
    }
  });

  it('refuses a persona whose signedUp is not a boolean', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'personas-'));
    const file = path.join(dir, 'signed-up.json');
    writeFileSync(file, '[{"id": "4000000000000001001", "linked": true, "signedUp": "no"}]');
    expect(() => loadPersonas(file)).toThrow(/signedUp/);
  });

  it('refuses a non-numeric app id and a missing redirect URI', async () => {
    await expect(
      startKakaoEmulator({ restApiKey: 'k', adminKey: 'a', appId: 'abc', redirectUris: ['http://x/cb'] }),
    ).rejects.toThrow(/appId/);
    await expect(startKakaoEmulator({ restApiKey: 'k', adminKey: 'a', appId: '1', redirectUris: [] })).rejects.toThrow(
      /redirect/,
    );
  });
});
