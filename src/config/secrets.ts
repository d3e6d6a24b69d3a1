/**
 * Values that appear in our own `.env.example`, docs and common tutorials. A secret equal to any of them is
 * public knowledge, whatever its length. `secrets.spec.ts` checks that every value of `.env.example` is here.
 */
export const PLACEHOLDER_SECRETS: readonly string[] = [
  'change-me-to-a-random-string-of-at-least-32-bytes',
  'Y2hhbmdlLW1lLTMyLWJ5dGUtZW5jcnlwdGlvbi1rZXk=',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  'change-me-kakao-admin-key',
  'secret',
  'changeme',
  'change-me',
  'your-secret',
  'your_jwt_secret',
  'jwt-secret',
  'supersecret',
];

const PLACEHOLDER_WORDS = /change[-_ ]?me|placeholder|your[-_ ]?secret/i;

export function isPlaceholderSecret(secret: string): boolean {
  return PLACEHOLDER_SECRETS.includes(secret) || PLACEHOLDER_WORDS.test(secret);
}

/**
 * Why a secret must not be used, or null when it is acceptable. A secret shorter than `minBytes`, equal to
 * a known placeholder, or made of very few distinct characters is refused (RFC 8725 §3.5: HMAC keys need
 * enough entropy to resist offline guessing).
 */
export function weakSecretReason(secret: string, { minBytes = 32 }: { minBytes?: number } = {}): string | null {
  if (Buffer.byteLength(secret, 'utf8') < minBytes) return `must be at least ${minBytes} bytes`;
  if (isPlaceholderSecret(secret)) return 'is a placeholder value';
  if (new Set(secret).size < 8) return 'has too little entropy';
  return null;
}
