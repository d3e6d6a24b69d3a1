/** A UTF-16 surrogate without its other half: valid in a JS string, not in UTF-8 or in PostgreSQL's json. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function hasUnpairedSurrogate(text: string): boolean {
  UNPAIRED_SURROGATE.lastIndex = 0;
  return UNPAIRED_SURROGATE.test(text);
}

/**
 * Text from a party we cannot refuse (Kakao) as PostgreSQL can store it. JSON (`\u0000`, `\ud83d`) can carry
 * both of what it cannot: U+0000 in text, and an unpaired surrogate in json/jsonb (which fails the whole
 * write, and so the login or the webhook call). U+0000 is dropped; an unpaired surrogate becomes U+FFFD, as a
 * UTF-8 encoder writes it into a text column anyway.
 */
export function storableText(text: string): string {
  return text.replace(/\u0000/g, '').replace(UNPAIRED_SURROGATE, '\uFFFD');
}
