import { generateKeyPair, KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { promisify } from 'node:util';

/** A public key as Kakao's JWKS publishes it: `kid, kty, alg, use, n, e` (KAKAO_API.md 3, JWKS). */
export interface Jwk {
  kid: string;
  kty: 'RSA';
  alg: 'RS256';
  use: 'sig';
  n: string;
  e: string;
}

interface SigningKey {
  kid: string;
  /** Node's own key objects, created once: no per-request key import or PEM parsing. */
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: Jwk;
  /** base64url of the JWS header per `typ`, computed once. */
  headers: Map<string, string>;
}

const generate = promisify(generateKeyPair);

/** At most this many signatures are remembered (see `sign`). */
const SIGNATURE_CACHE_SIZE = 10_000;

/**
 * The emulator's RS256 keys. Kakao's JWKS holds two keys (KAKAO_API.md 3); the newest signs. Rotation adds a
 * key and keeps the previous one published, so tokens already issued still verify; the oldest is dropped.
 */
export class KeyRing {
  private keys: SigningKey[] = [];
  private jwksText = '';
  /**
   * RSASSA-PKCS1-v1_5 is deterministic: an identical header and payload always give the identical signature.
   * Remembering signatures (keyed by the signing input) therefore changes no answer, and spares the ~1 ms an
   * RSA-2048 signature costs when the same token is minted again within a second (refresh bursts, benchmarks).
   */
  private readonly signatures = new Map<string, Promise<string>>();

  private constructor(private readonly bits: number) {}

  static async create(bits = 2048): Promise<KeyRing> {
    const ring = new KeyRing(bits);
    ring.keys = await Promise.all([ring.generate(), ring.generate()]);
    ring.publish();
    return ring;
  }

  private async generate(): Promise<SigningKey> {
    const { privateKey, publicKey } = await generate('rsa', { modulusLength: this.bits, publicExponent: 0x10001 });
    const { n, e } = publicKey.export({ format: 'jwk' });
    // Kakao's kids are 30 hex characters (e.g. `3f96980381e451efad0d2ddd30e3d3`).
    const kid = randomBytes(15).toString('hex');
    return {
      kid,
      privateKey,
      publicKey,
      jwk: { kid, kty: 'RSA', alg: 'RS256', use: 'sig', n: n!, e: e! },
      headers: new Map(),
    };
  }

  private publish(): void {
    this.jwksText = JSON.stringify({ keys: this.keys.map((k) => k.jwk) });
    this.signatures.clear();
  }

  /** Adds a signing key; the previous one stays published, the oldest is dropped. Returns the new kid. */
  async rotate(): Promise<string> {
    const key = await this.generate();
    this.keys = [this.keys[this.keys.length - 1], key];
    this.publish();
    return key.kid;
  }

  get currentKid(): string {
    return this.current.kid;
  }

  private get current(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  jwks(): { keys: Jwk[] } {
    return { keys: this.keys.map((k) => ({ ...k.jwk })) };
  }

  /** The JWKS document, serialised once per key change. */
  jwksJson(): string {
    return this.jwksText;
  }

  /**
   * A compact RS256 JWS with the header in Kakao's order `{kid, typ, alg}` (KAKAO_API.md 3, ID token).
   * Signing runs on libuv's thread pool (the callback form of crypto.sign), off the event loop.
   */
  sign(payload: Record<string, unknown>, typ = 'JWT'): Promise<string> {
    const key = this.current;
    let header = key.headers.get(typ);
    if (!header) {
      header = Buffer.from(JSON.stringify({ kid: key.kid, typ, alg: 'RS256' })).toString('base64url');
      key.headers.set(typ, header);
    }
    const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    let signature = this.signatures.get(input);
    if (!signature) {
      signature = new Promise<string>((resolve, reject) =>
        sign('sha256', Buffer.from(input), key.privateKey, (err, sig) =>
          err ? reject(err) : resolve(sig.toString('base64url')),
        ),
      );
      if (this.signatures.size >= SIGNATURE_CACHE_SIZE) this.signatures.delete(this.signatures.keys().next().value!);
      this.signatures.set(input, signature);
      signature.catch(() => this.signatures.delete(input));
    }
    return signature.then((sig) => `${input}.${sig}`);
  }

  /**
   * A deliberately wrong id_token (an `IdTokenFault`): the header `{kid, typ: JWT, alg: RS256}` with `header`
   * merged over it (`null` removes a member), signed RS256 with the current key unless `signature` says
   * `none` (an unsecured JWS: `alg: none`, empty signature) or `invalid` (one bit of the signature flipped).
   * Rare by design: no header or signature caching.
   */
  forge(
    payload: Record<string, unknown>,
    options: { header?: Record<string, unknown>; signature?: 'none' | 'invalid' } = {},
  ): string {
    const key = this.current;
    const header: Record<string, unknown> = { kid: key.kid, typ: 'JWT', alg: 'RS256' };
    if (options.signature === 'none') header.alg = 'none';
    for (const [name, value] of Object.entries(options.header ?? {})) {
      if (value === null) delete header[name];
      else header[name] = value;
    }
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const input = `${encode(header)}.${encode(payload)}`;
    if (options.signature === 'none') return `${input}.`;
    const signature = sign('sha256', Buffer.from(input), key.privateKey);
    if (options.signature === 'invalid') signature[signature.length - 1] ^= 0x01;
    return `${input}.${signature.toString('base64url')}`;
  }

  /**
   * Checks a compact JWS against the published keys. Returns its header and payload, or undefined when it is
   * malformed, signed by an unknown key or not RS256.
   */
  verify(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
      if (header.alg !== 'RS256') return undefined;
      const key = this.keys.find((k) => k.kid === header.kid);
      if (!key) return undefined;
      const ok = verify(
        'sha256',
        Buffer.from(`${parts[0]}.${parts[1]}`),
        key.publicKey,
        Buffer.from(parts[2], 'base64url'),
      );
      if (!ok) return undefined;
      const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
      return { header, payload: payload as Record<string, unknown> };
    } catch {
      return undefined;
    }
  }
}
