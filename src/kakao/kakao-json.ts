import { storableText } from '../common/text';

/**
 * Parses a Kakao JSON body keeping user ids exact. Kakao writes `id` (and `user_id`, `target_id`) as JSON
 * numbers that exceed 2^53 (KAKAO_API.md, "Critical for NestJS"); JSON.parse would round them. Their digits
 * are turned into strings first. A `"id":` inside a JSON string cannot match: its quotes would be escaped.
 * Strings come out as PostgreSQL can store them (storableText).
 */
export function parseKakaoJson(text: string): unknown {
  const exact = text.replace(/("(?:id|user_id|target_id|app_id)"\s*:\s*)(-?\d+)(?=\s*[,}\]])/g, '$1"$2"');
  // Only an escape can put U+0000 or a surrogate into a parsed string (decoding UTF-8 never makes them), so
  // the reviver runs only for bodies holding one, e.g. a nickname cut in the middle of an emoji.
  return MAY_BE_UNSTORABLE.test(text) ? JSON.parse(exact, storableStrings) : JSON.parse(exact);
}

const MAY_BE_UNSTORABLE = /\\u(?:0000|[dD][89a-fA-F])/;
const storableStrings = (_key: string, value: unknown) => (typeof value === 'string' ? storableText(value) : value);
