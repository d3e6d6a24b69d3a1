/**
 * Parses a Kakao JSON body keeping user ids exact. Kakao writes `id` (and `user_id`, `target_id`) as JSON
 * numbers that exceed 2^53 (KAKAO_API.md, "Critical for NestJS"); JSON.parse would round them. Their digits
 * are turned into strings first. A `"id":` inside a JSON string cannot match: its quotes would be escaped.
 */
export function parseKakaoJson(text: string): unknown {
  return JSON.parse(text.replace(/("(?:id|user_id|target_id|app_id)"\s*:\s*)(-?\d+)(?=\s*[,}\]])/g, '$1"$2"'));
}
