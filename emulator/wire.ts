import type { FastifyReply, FastifyRequest } from 'fastify';

/** Content type of kapi answers and of the token endpoint (KAKAO_API.md 2: `application/json;charset=UTF-8`). */
export const JSON_UTF8 = 'application/json;charset=UTF-8';

/** HTTP status of each kapi error code (KAKAO_API.md 8, both tables). */
const KAPI_STATUS: Record<number, number> = {
  [-1]: 400,
  [-2]: 400,
  [-3]: 403,
  [-4]: 403,
  [-5]: 403,
  [-6]: 403,
  [-7]: 400,
  [-8]: 400,
  [-9]: 400,
  [-10]: 400,
  [-11]: 400,
  [-12]: 403,
  [-101]: 400,
  [-102]: 400,
  [-103]: 400,
  [-201]: 400,
  [-401]: 401,
  [-402]: 403,
  [-406]: 401,
  [-501]: 400,
  [-903]: 400,
  [-9798]: 503,
};

export const kapiStatus = (code: number): number => KAPI_STATUS[code] ?? 400;

/**
 * A JSON object whose first member is `"id":<raw number>`. Kakao writes user ids as JSON numbers even above
 * 2^53 (KAKAO_API.md 4); JSON.stringify of a JS number would round them, so the id is spliced in as text.
 */
export function jsonWithId(id: string, rest: Record<string, unknown> = {}): string {
  if (!/^\d+$/.test(id)) throw new Error(`not a numeric id: ${id}`);
  const tail = JSON.stringify(rest);
  return tail === '{}' ? `{"id":${id}}` : `{"id":${id},${tail.slice(1)}`;
}

export function sendJson(
  reply: FastifyReply,
  status: number,
  body: string | object,
  contentType = JSON_UTF8,
): FastifyReply {
  return reply
    .code(status)
    .header('content-type', contentType)
    .send(typeof body === 'string' ? body : JSON.stringify(body));
}

/**
 * kapi errors are `{msg, code}` with the code's HTTP status; a -401 carries `WWW-Authenticate: Bearer
 * error=invalid_token` (KAKAO_API.md 8).
 */
export function kapiError(
  reply: FastifyReply,
  code: number,
  msg: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  if (code === -401) void reply.header('www-authenticate', 'Bearer error=invalid_token');
  return sendJson(reply, kapiStatus(code), { msg, code, ...extra });
}

/** kauth errors are `{error, error_description, error_code}` (KAKAO_API.md 2, Token-endpoint errors). */
export function kauthError(
  reply: FastifyReply,
  status: number,
  error: string,
  description: string,
  errorCode: string,
): FastifyReply {
  return sendJson(reply, status, { error, error_description: description, error_code: errorCode });
}

/** `302` with an empty body to `uri` plus the given query parameters (KAKAO_API.md 1, success response). */
export function redirect(reply: FastifyReply, uri: string, query: Record<string, string | undefined>): FastifyReply {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  // URLSearchParams writes spaces as `+`; Kakao's examples use %20 (`User%20denied%20access`).
  url.search = url.searchParams.toString().replace(/\+/g, '%20');
  return reply.code(302).header('location', url.toString()).header('content-length', '0').send();
}

export type Params = Record<string, string | undefined>;

/** First value of each parameter, as strings (a repeated parameter counts once, like Kakao's form parsing). */
export const flatten = (source: unknown): Params => {
  const out: Params = {};
  if (typeof source !== 'object' || source === null) return out;
  for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
    const first: unknown = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first;
    else if (typeof first === 'number' || typeof first === 'boolean') out[k] = String(first);
  }
  return out;
};

export const queryParams = (request: FastifyRequest): Params => flatten(request.query);

/** Form-body parameters; empty unless the body was `application/x-www-form-urlencoded` (as Kakao requires). */
export function formParams(request: FastifyRequest): Params {
  const type = request.headers['content-type'] ?? '';
  return type.toLowerCase().startsWith('application/x-www-form-urlencoded') ? flatten(request.body) : {};
}

/** Query and form body together (kapi takes parameters from either; the SDK puts some in the query of a POST). */
export const allParams = (request: FastifyRequest): Params => ({ ...queryParams(request), ...formParams(request) });

/** A comma- or space-separated list (Kakao documents commas; its SDK sends spaces; KAKAO_API.md 1). */
export function splitList(value: string | undefined): string[] {
  return [...new Set((value ?? '').split(/[\s,]+/).filter(Boolean))];
}

/** A JSON array of strings such as `["kakao_account.email"]`, or undefined when absent; throws when malformed. */
export function jsonStringArray(value: string | undefined): string[] | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed: unknown = JSON.parse(value);
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string'))
    throw new Error('not a JSON array of strings');
  return parsed;
}

/** A JSON object of strings such as `{"age":"30"}`, or undefined when absent; throws when malformed. */
export function jsonStringRecord(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed: unknown = JSON.parse(value);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  if (!Object.values(parsed).every((v) => typeof v === 'string')) throw new Error('not all values are strings');
  return parsed as Record<string, string>;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
