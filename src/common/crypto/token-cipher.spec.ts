import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../../config/app-config';
import { TokenCipher } from './token-cipher';

const cipherWith = (key: Buffer) => new TokenCipher({ tokenEncryptionKey: key } as AppConfig);

describe('TokenCipher', () => {
  const key = randomBytes(32);
  const cipher = cipherWith(key);

  it('round-trips and never shows the plaintext', () => {
    const sealed = cipher.encrypt('kakao-access-token', 'identity-1');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('kakao-access-token');
    expect(cipher.decrypt(sealed, 'identity-1')).toBe('kakao-access-token');
  });

  it('uses a fresh IV every time', () => {
    expect(cipher.encrypt('same')).not.toBe(cipher.encrypt('same'));
  });

  it('refuses a tampered value, another key and another row', () => {
    const sealed = cipher.encrypt('secret', 'a');
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    expect(() => cipher.decrypt(flipped, 'a')).toThrow();
    expect(() => cipherWith(randomBytes(32)).decrypt(sealed, 'a')).toThrow();
    expect(() => cipher.decrypt(sealed, 'b')).toThrow();
    expect(() => cipher.decrypt('garbage', 'a')).toThrow();
  });
});
