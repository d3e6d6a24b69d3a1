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
    // Tampered on the decoded bytes: a character swap can land on base64's unused low bits and change nothing.
    const [version, iv, body] = sealed.split('.');
    for (let i = 0; i < Buffer.from(body, 'base64url').length; i++) {
      const bytes = Buffer.from(body, 'base64url');
      bytes[i] ^= 0x01;
      expect(() => cipher.decrypt(`${version}.${iv}.${bytes.toString('base64url')}`, 'a')).toThrow();
    }
    const ivBytes = Buffer.from(iv, 'base64url');
    ivBytes[0] ^= 0x01;
    expect(() => cipher.decrypt(`${version}.${ivBytes.toString('base64url')}.${body}`, 'a')).toThrow();
    expect(() => cipherWith(randomBytes(32)).decrypt(sealed, 'a')).toThrow();
    expect(() => cipher.decrypt(sealed, 'b')).toThrow();
    expect(() => cipher.decrypt('garbage', 'a')).toThrow();
  });

  it('after a rotation, opens what the previous key sealed and seals only with the new one', () => {
    const before = cipher.encrypt('old-token', 'row');
    const newKey = randomBytes(32);
    const rotated = new TokenCipher({ tokenEncryptionKey: newKey, previousEncryptionKeys: [key] } as AppConfig);
    expect(rotated.decrypt(before, 'row')).toBe('old-token');
    expect(() => rotated.decrypt(before, 'other-row')).toThrow();
    const after = rotated.encrypt('new-token', 'row');
    expect(() => cipher.decrypt(after, 'row')).toThrow();
    expect(cipherWith(newKey).decrypt(after, 'row')).toBe('new-token');
  });

  it('fingerprints with a key of its own: stable for one key, different across keys and purposes', () => {
    expect(cipher.fingerprint('4000000000000001001', 'kakao-user')).toEqual(
      cipherWith(key).fingerprint('4000000000000001001', 'kakao-user'),
    );
    expect(cipher.fingerprint('1', 'kakao-user')).not.toEqual(
      cipherWith(randomBytes(32)).fingerprint('1', 'kakao-user'),
    );
    expect(cipher.fingerprint('1', 'kakao-user')).not.toEqual(cipher.fingerprint('1', 'other'));
  });
});
