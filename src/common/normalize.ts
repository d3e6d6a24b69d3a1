/**
 * The form of an email used to compare and to keep unique: Unicode NFKC (so full-width and compatibility
 * characters compare equal to their plain forms), trimmed, lower-cased. The address as typed is kept for
 * display and mail.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

/** Names compare without regard to spacing: "홍 길동" and "홍길동" are the same person's name. */
export function normalizeName(name: string): string {
  return name.normalize('NFKC').replace(/\s+/gu, '').toLowerCase();
}
