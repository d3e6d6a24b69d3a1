import { createHash, timingSafeEqual } from 'node:crypto';

/** Digests have a fixed length, so timingSafeEqual never leaks a secret's length through an early return. */
export const secretDigest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Whether a presented value equals a secret, in time that depends on neither. */
export const sameSecret = (presented: string, secret: Buffer): boolean =>
  timingSafeEqual(secretDigest(presented), secret);
