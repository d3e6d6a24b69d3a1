import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { AppConfig } from '../../config/app-config';
import { InjectConfig } from '../../config/config.module';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for tokens kept at rest (Kakao's access and refresh tokens, PKCE verifiers). The output is
 * `v1.<iv>.<ciphertext+tag>` in base64url; `aad` binds a value to its row so it cannot be moved to another.
 */
@Injectable()
export class TokenCipher {
  private readonly key: Buffer;
  /** The current key first, then TOKEN_ENCRYPTION_PREVIOUS_KEYS: what was sealed before a rotation still opens. */
  private readonly decryptionKeys: Buffer[];
  /** Derived, so the encryption key itself is used for one algorithm only. */
  private readonly fingerprintKey: Buffer;

  constructor(@InjectConfig() config: AppConfig) {
    this.key = config.tokenEncryptionKey;
    this.decryptionKeys = [config.tokenEncryptionKey, ...(config.previousEncryptionKeys ?? [])];
    this.fingerprintKey = createHmac('sha256', this.key).update('fingerprint-key').digest();
  }

  encrypt(plaintext: string, aad = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Throws when the value was tampered with, encrypted under another key, or bound to another row. */
  decrypt(sealed: string, aad = ''): string {
    const [version, iv, body] = sealed.split('.');
    if (version !== VERSION || !iv || !body) throw new Error('Not a sealed token');
    const data = Buffer.from(body, 'base64url');
    if (data.length < TAG_BYTES) throw new Error('Not a sealed token');
    let failure: unknown;
    for (const key of this.decryptionKeys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(aad));
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString(
          'utf8',
        );
      } catch (err) {
        // GCM's tag fails for a wrong key as for tampering: the next key is tried, the last failure thrown.
        failure = err;
      }
    }
    throw failure;
  }

  /**
   * A keyed hash (HMAC-SHA256) of a value that must be recognisable without being kept, such as the Kakao id
   * of an unlinked account: short ids cannot be recovered by hashing every candidate without the key.
   */
  fingerprint(value: string, purpose: string): Buffer {
    return createHmac('sha256', this.fingerprintKey).update(`${purpose}\0${value}`).digest();
  }
}
