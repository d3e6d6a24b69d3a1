import { exportJWK, generateKeyPair, JWK } from 'jose';
import { KeyObject, randomBytes, sign } from 'node:crypto';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface SigningKey {
  kid: string;
  privateKey: PrivateKey;
  /** Node's own key object, for signing through node:crypto without WebCrypto's overhead. */
  keyObject: KeyObject;
  jwk: JWK;
}

/**
 * The emulator's RS256 keys. Kakao publishes two keys (KAKAO_API.md 3, JWKS); the newest signs. Rotation adds
 * a key and keeps the previous one published so tokens already issued still verify.
 */
export class KeyRing {
  private keys: SigningKey[] = [];

  private constructor(private readonly bits: number) {}

  static async create(bits = 2048): Promise<KeyRing> {
    const ring = new KeyRing(bits);
    ring.keys.push(await ring.generate(), await ring.generate());
    return ring;
  }

  private async generate(): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: this.bits, extractable: true });
    const kid = randomBytes(15).toString('hex');
    const keyObject = privateKey instanceof KeyObject ? privateKey : KeyObject.from(privateKey);
    return { kid, privateKey, keyObject, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
  }

  /** A new signing key; the previous one stays published, older ones are dropped. */
  async rotate(): Promise<string> {
    const key = await this.generate();
    this.keys = [this.keys[this.keys.length - 1], key];
    return key.kid;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.jwk) };
  }

  get currentKid(): string {
    return this.keys[this.keys.length - 1].kid;
  }

  /** A compact RS256 JWS, header in Kakao's order (`kid`, `typ`, `alg`). */
  async sign(payload: Record<string, unknown>, typ = 'JWT'): Promise<string> {
    const key = this.keys[this.keys.length - 1];
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ kid: key.kid, typ, alg: 'RS256' })}.${b64(payload)}`;
    // The callback form signs on libuv's thread pool, off the event loop.
    const signature = await new Promise<Buffer>((resolve, reject) =>
      sign('sha256', Buffer.from(input), key.keyObject, (err, sig) => (err ? reject(err) : resolve(sig))),
    );
    return `${input}.${signature.toString('base64url')}`;
  }
}
