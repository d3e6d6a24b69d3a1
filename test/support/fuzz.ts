/**
 * Tools of the hostile-input fuzz (test/e2e/fuzz.e2e-spec.ts): a raw HTTP client that sends whatever the
 * fuzz made (any method, content type and bytes), the checks every answer must pass, a fingerprint of the
 * database to prove a refused request wrote nothing, and fast-check arbitraries for hostile values.
 */
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { Agent, IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import type { Client } from 'pg';
import { ERROR_STATUS } from '../../src/common/errors/error-codes';

// ------------------------------------------------------------------------------------------- run counts

/**
 * Cases per property. `npm test` runs `base`; `FUZZ_RUNS=n` runs n per property, and `npm run test:extended`
 * (TEST_EXTENDED=1) runs 2000 unless FUZZ_RUNS says otherwise. `FUZZ_SEED` replays a reported failure.
 */
export function fuzzRuns(base: number): number {
  const explicit = Number(process.env.FUZZ_RUNS);
  if (Number.isInteger(explicit) && explicit > 0) return explicit;
  return process.env.TEST_EXTENDED === '1' ? 2000 : base;
}

export const isExtended = () => fuzzRuns(1) > 1;

/**
 * fast-check parameters shared by every property: the run count, with FUZZ_SEED a replayed seed, and a
 * report whose lines are cut short (a counterexample may hold a 60 000-character string).
 */
export function fuzzParameters<T>(base: number): fc.Parameters<T> {
  const seed = Number(process.env.FUZZ_SEED);
  return {
    numRuns: fuzzRuns(base),
    ...(process.env.FUZZ_SEED && Number.isInteger(seed) ? { seed } : {}),
    reporter: (details) => {
      if (!details.failed) return;
      const cause =
        details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      const report = `${fc.defaultReportMessage(details) ?? 'property failed'}\nCause: ${cause}`;
      const cut = (line: string) => (line.length > 1500 ? `${line.slice(0, 1500)}… (${line.length} chars)` : line);
      throw new Error(report.split('\n').map(cut).join('\n'));
    },
  };
}

// ------------------------------------------------------------------------------------------- raw HTTP

export interface RawRequest {
  method: string;
  /** Path and query exactly as sent (must be printable ASCII: Node refuses anything else). */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * No keep-alive: the service closes a connection after some refusals (413, 431), and a request written to a
 * connection being closed would fail in the client instead of being answered.
 */
const agent = new Agent({ keepAlive: false });

/** Ends the agent's connections (afterAll). */
export const closeFuzzAgent = () => agent.destroy();

/** One HTTP exchange with nothing added: no content type unless given, bytes as they are. */
export function send(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const headers: Record<string, string | string[]> = { connection: 'close', ...req.headers };
    if (body !== undefined) headers['content-length'] = String(body.length);
    const r = request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

/**
 * Bytes written to a fresh connection as they are, for what Node's client refuses to send (a malformed
 * request line, control characters in a header); the answer is read until the server closes.
 */
export function sendBytes(baseUrl: string, data: string | Buffer): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(data));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = raw.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]) || 0, headers, text: rest.join('\r\n\r\n') });
    });
  });
}

/** A header value Node's client will send: tab, printable ASCII and Latin-1 only; anything else becomes `?`. */
export const headerSafe = (value: string) => value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

// ------------------------------------------------------------------------------------------- answers

const ERROR_KEYS = new Set(['statusCode', 'code', 'message', 'requestId', 'details']);
const SET_ERRORS = new Set(['invalid_request', 'invalid_key', 'invalid_issuer', 'invalid_audience']);

/** Why `res` is not an answer in the error shape of API.md, or undefined when it is one. */
export function errorShapeProblem(res: RawResponse): string | undefined {
  if (!String(res.headers['content-type'] ?? '').startsWith('application/json')) {
    return `content-type ${String(res.headers['content-type'])}`;
  }
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return 'body is not JSON';
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body is not an object';
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !ERROR_KEYS.has(k));
  if (extra.length) return `unexpected keys ${extra.join(',')}`;
  if (b.statusCode !== res.status) return `statusCode ${String(b.statusCode)} ≠ ${res.status}`;
  if (typeof b.code !== 'string' || !(b.code in ERROR_STATUS)) return `unknown code ${String(b.code)}`;
  if (typeof b.message !== 'string' || !b.message) return 'no message';
  if (typeof b.requestId !== 'string' || b.requestId !== res.headers['x-request-id']) return 'requestId';
  return undefined;
}

/** The RFC 8935 §2.3 answer of the account status webhook: 400 `{err, description}`. */
export function setErrorProblem(res: RawResponse): string | undefined {
  if (res.status !== 400) return `status ${res.status}`;
  try {
    const body = JSON.parse(res.text) as Record<string, unknown>;
    if (!SET_ERRORS.has(String(body.err))) return `err ${String(body.err)}`;
    if (typeof body.description !== 'string') return 'no description';
    if (Object.keys(body).length !== 2) return `keys ${Object.keys(body).join(',')}`;
  } catch {
    return 'body is not JSON';
  }
  return undefined;
}

/** One line describing a request and its answer for a failure message (bodies cut short). */
export function describeExchange(req: RawRequest, res?: RawResponse): string {
  const cut = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);
  const body = req.body === undefined ? '' : ` body=${cut(JSON.stringify(req.body.toString()))}`;
  const headers = JSON.stringify(req.headers ?? {}, (_k, v: unknown) => (typeof v === 'string' ? cut(v, 200) : v));
  const answer = res ? ` → ${res.status} ${cut(res.text)}` : '';
  return `${req.method} ${cut(req.path)} headers=${headers}${body}${answer}`;
}

// ------------------------------------------------------------------------------------------- writes

/**
 * A fingerprint of every table of the service (row count and a hash of the rows' text) and of the job
 * queue, to compare before and after a request. Failed-login audit rows are left out: recording a refused
 * login is the point of them.
 */
export class DatabaseFingerprint {
  private constructor(
    private readonly db: Client,
    private readonly sql: string,
  ) {}

  static async create(db: Client): Promise<DatabaseFingerprint> {
    const { rows } = await db.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1`,
    );
    const parts = rows.map(({ tablename: t }) => {
      const where = t === 'audit_events' ? `WHERE x.type <> 'member.login_failed'` : '';
      return `SELECT '${t}' AS name, count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS fp FROM "${t}" x ${where}`;
    });
    const queue = await db.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'pgboss' AND tablename IN ('job', 'archive')`,
    );
    if (queue.rows.length) {
      // Jobs move from job to archive (same total) and leave only after days: the sum counts jobs ever queued.
      const sum = queue.rows.map((r) => `(SELECT count(*) FROM pgboss."${r.tablename}")`).join(' + ');
      parts.push(`SELECT 'pgboss jobs' AS name, (${sum})::text AS fp`);
    }
    return new DatabaseFingerprint(db, parts.join('\nUNION ALL\n'));
  }

  async take(): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ name: string; fp: string }>(this.sql);
    return new Map(rows.map((r) => [r.name, r.fp]));
  }

  /** The tables whose fingerprint differs. */
  static changed(before: Map<string, string>, after: Map<string, string>): string[] {
    return [...after.keys()].filter((k) => before.get(k) !== after.get(k));
  }
}

// ------------------------------------------------------------------------------------------- arbitraries

/** Strings that broke parsers, databases and comparisons before. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0000'.repeat(20),
  '\r\n',
  'x\r\nSet-Cookie: a=b',
  '\t',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u00ad',
  '\u200b',
  '\u200d',
  '\u2028\u2029',
  '\u202e',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  'ａｄｍｉｎ',
  'İı',
  'ß',
  'ﬀ',
  'K',
  '../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '/dev/null',
  'C:\\Windows\\win.ini',
  "' OR '1'='1",
  "'; DROP TABLE members; --",
  '" OR ""="',
  '1; SELECT pg_sleep(10)',
  '$1',
  '%s%s%s%n',
  '{{7*7}}',
  '${jndi:ldap://127.0.0.1/a}',
  '<script>alert(1)</script>',
  'javascript:alert(1)',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '9007199254740993',
  '-1',
  '0x10',
  'true',
  '[]',
  '{}',
  '%',
  '%zz',
  '%00',
  '%C0%AF',
  '\\',
  '\\u0000',
];

/** A character that is a control or format character, or otherwise invisible. */
const controlChar = fc.oneof(
  fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\u007f', '\u0085', '\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\u202e', '\ufeff', '\u2028'),
);

/** A string of controls, lone surrogates and other characters a careless parser trips on. */
export const weirdString = fc.oneof(
  fc.string({ unit: fc.oneof(controlChar, fc.constantFrom('\ud800', '\udfff', '\u0000', '\\', '"', "'", '%')) }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

const shortStrings = [
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: weirdString },
  { weight: 1, arbitrary: fc.integer({ min: 257, max: 3000 }).map((n) => 'A'.repeat(n)) },
];

/** Hostile strings short enough for a header or a URL (Node refuses headers over 16 KiB before the app). */
export const hostileShortString: fc.Arbitrary<string> = fc.oneof(...shortStrings);

/** A string the fuzz throws at a field: nasty constants, random text, controls, long and huge values. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  ...shortStrings,
  // Large but inside the 64 KiB body limit, so the application (not the parser) sees it.
  { weight: 1, arbitrary: fc.integer({ min: 3000, max: 60_000 }).map((n) => 'x'.repeat(n)) },
);

/** Percent-encodes every byte of the UTF-8 form of `s` but unreserved characters (lone surrogates become U+FFFD). */
export const pct = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

function valuesOf(strings: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: strings },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2) },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.array(strings, { maxLength: 5 }) },
    { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 60 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
    // An own `__proto__` key, as JSON.parse makes it (an object literal would set the prototype instead).
    { weight: 1, arbitrary: fc.constant(JSON.parse('{"__proto__":{"isAdmin":true}}') as unknown) },
  );
}

/** A value of any JSON type, for fields that expect one type. */
export const hostileValue = valuesOf(hostileString);
/** The same, small enough to travel in a header (a JWT claim). */
export const hostileShortValue = valuesOf(hostileShortString);

/** Names of fields a body should not have. */
export const extraKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'isAdmin', 'memberId', 'status', 'role', 'id', 'sub', ''),
  fc.string({ minLength: 1, maxLength: 20 }),
);

/**
 * A JSON body made from `template` (a plausible request): fields missing, of the wrong type, hostile or huge,
 * extra fields, or no object at all. Answers the JSON text, since `__proto__` keys must survive.
 */
export function mutatedBody(template: Record<string, unknown>): fc.Arbitrary<string> {
  const keys = Object.keys(template);
  type Mutation = (b: Record<string, unknown>) => unknown;
  const onKeys: Array<fc.Arbitrary<Mutation>> = keys.length
    ? [
        // a field missing
        fc.constantFrom(...keys).map((k) => (b: Record<string, unknown>) => omit(b, k)),
        // a field of another type or hostile content
        fc
          .tuple(fc.constantFrom(...keys), hostileValue)
          .map(([k, v]) => (b: Record<string, unknown>) => ({ ...b, [k]: v })),
      ]
    : [];
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    ...onKeys,
    // an extra field
    fc.tuple(extraKey, hostileValue).map(([k, v]) => (b: Record<string, unknown>) => {
      const copy = { ...b };
      Object.defineProperty(copy, k, { value: v, enumerable: true, configurable: true, writable: true });
      return copy;
    }),
    // only some fields
    fc.subarray(keys).map((kept) => (b: Record<string, unknown>) => Object.fromEntries(kept.map((k) => [k, b[k]]))),
    // not an object at all
    fc.jsonValue({ maxDepth: 2 }).map((v) => () => v),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
    let body: unknown = { ...template };
    for (const m of ms)
      body = m(body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {});
    return JSON.stringify(body) ?? 'null';
  });
}

function omit(b: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...b };
  delete copy[key];
  return copy;
}

/** Bodies that are not the JSON they claim to be. */
export const invalidJson = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '}',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    '{a:1}',
    '[',
    'nul',
    'NaN',
    'undefined',
    '{"a":1}{"b":2}',
    '{"a":"\u0000"}',
    '{"a":"\\ud800"}',
    '{"a":"\\x00"}',
    '\ufeff{}',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    `${'['.repeat(5000)}${']'.repeat(5000)}`,
    `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`,
    '1'.repeat(400),
    '"' + 'a'.repeat(1000),
  ),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a).toString('latin1')),
);

/**
 * A JSON value nested `depth` levels deep (arrays or objects), as text: built by hand, since JSON.stringify
 * itself would overflow the stack. At 30 000 levels it still fits in the 64 KiB body limit.
 */
export const deeplyNested = fc
  .tuple(fc.integer({ min: 50, max: 30_000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);

/** Content types a client may claim. */
export const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'APPLICATION/JSON',
    'application/json, text/plain',
    'application/json;;;',
    'application/jsonx',
    'application/merge-patch+json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'text/plain',
    'text/html',
    'application/xml',
    'application/octet-stream',
    'application/secevent+jwt',
    'application/jwt',
    '*/*',
    ';',
    '',
  ),
  fc.string({ maxLength: 30 }).map(headerSafe),
);

// ------------------------------------------------------------------------------------------- JWTs

const b64u = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** A base64url segment, or something that only looks like one. */
const segment = fc.oneof(
  fc.constantFrom('', 'e30', 'bnVsbA', 'W10', 'eyJhbGciOiJub25lIn0', 'AAAA', '====', 'a+b/c=', '*', '%2e', '.', ' '),
  fc.base64String({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 48 }).map((a) => b64u(Buffer.from(a))),
  fc.string({ maxLength: 20 }),
);

/** kid values that must not reach a file system, a database or a key cache as they are. */
export const hostileKid: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '../../etc/passwd',
    '../../../../../../dev/null',
    '/dev/zero',
    'file:///etc/passwd',
    'http://127.0.0.1:1/jwks',
    "' OR 1=1 --",
    "x'; DROP TABLE sessions; --",
    '| rm -rf /',
    '$(id)',
    '\u0000',
    '',
    '__proto__',
    'constructor',
    'hasOwnProperty',
  ),
  fc.integer({ min: 1000, max: 3000 }).map((n) => 'k'.repeat(n)),
  hostileShortValue,
);

const alg = fc.constantFrom(
  'none',
  'None',
  'NONE',
  'nOnE',
  'HS256',
  'hs256',
  'Hs256',
  'RS256',
  'rs256',
  'ES256',
  'PS256',
  'HS512',
  '',
  null,
  256,
);
const typ = fc.constantFrom('at+jwt', 'AT+JWT', 'JWT', 'jwt', 'secevent+jwt', 'application/at+jwt', undefined, null, 1);

/** A JOSE header: plausible, hostile or not JSON at all (already base64url-encoded). */
const header = fc
  .oneof(
    {
      weight: 3,
      arbitrary: fc.record({ alg, typ, kid: fc.option(hostileKid, { nil: undefined }) }, { requiredKeys: [] }),
    },
    {
      weight: 1,
      arbitrary: fc.record(
        {
          alg,
          jku: fc.constantFrom('http://127.0.0.1:1/jwks.json', 'file:///etc/passwd'),
          x5u: fc.constant('http://127.0.0.1:1/cert.pem'),
          jwk: fc.constant({ kty: 'oct', k: b64u('attacker') }),
          crit: fc.constant(['exp']),
          b64: fc.constant(false),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  )
  .map((h) => b64u(JSON.stringify(h) ?? 'undefined'));
const notJsonHeader = fc
  .oneof(fc.constantFrom('not json', '{"alg":', '{alg:"HS256"}', '\u0000', '{"alg":"none"}}', ''), fc.string())
  .map((s) => b64u(s));

/** Claims, hostile in type or content. */
const claims = fc.oneof(
  fc.record(
    {
      sub: hostileShortValue,
      sid: hostileShortValue,
      jti: hostileShortValue,
      iss: hostileShortValue,
      aud: hostileShortValue,
      exp: fc.oneof(fc.integer(), fc.constantFrom(1e308, -1, '9999999999', null)),
      iat: fc.oneof(fc.integer(), fc.constantFrom(1e308, '0')),
      auth_time: hostileShortValue,
      amr: hostileShortValue,
      events: hostileShortValue,
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Malformed compact JWTs: wrong segment counts, bad base64url, non-JSON headers, hostile headers and claims. */
export const malformedJwt: fc.Arbitrary<string> = fc.oneof(
  // 1, 2, 4 or 5 segments
  fc
    .array(segment, { minLength: 1, maxLength: 5 })
    .filter((s) => s.length !== 3)
    .map((s) => s.join('.')),
  fc
    .tuple(
      header,
      claims.map((c) => b64u(JSON.stringify(c) ?? 'null')),
    )
    .map(([h, p]) => `${h}.${p}`),
  fc
    .tuple(
      header,
      claims.map((c) => b64u(JSON.stringify(c) ?? 'null')),
      segment,
      segment,
    )
    .map(([h, p, s, x]) => `${h}.${p}.${s}.${x}`),
  // three segments, hostile contents
  fc
    .tuple(
      header,
      claims.map((c) => b64u(JSON.stringify(c) ?? 'null')),
      segment,
    )
    .map((s) => s.join('.')),
  fc.tuple(notJsonHeader, segment, segment).map((s) => s.join('.')),
  // bad base64url characters
  fc.tuple(segment, segment, segment).map(([a, b, c]) => `${a}+/=.${b}=.${c}==`),
  // very long
  fc.integer({ min: 2000, max: 6000 }).map((n) => `${b64u('{"alg":"HS256"}')}.${'A'.repeat(n)}.${'B'.repeat(43)}`),
  fc.constantFrom('', '.', '..', '...', 'a.b.c', 'e30.e30.', 'e30.e30.e30', 'null.null.null'),
);

/** An HS256 JWT signed with `secret` (the service's own key) but with hostile claims and header fields. */
export function signedHostileJwt(secret: string, kid: string): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.record(
        {
          alg: fc.constant('HS256'),
          typ: fc.constantFrom('at+jwt', 'JWT'),
          kid: fc.oneof(fc.constant(kid), hostileKid),
        },
        { requiredKeys: ['alg'] },
      ),
      claims,
    )
    .map(([h, c]) => {
      const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(c) ?? 'null')}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    });
}

/** `valid` with one change that must make it fail: cut, extended, a character changed, a part dropped. */
export function brokenCopy(valid: string): fc.Arbitrary<string> {
  const parts = valid.split('.');
  return fc.oneof(
    fc.integer({ min: 1, max: valid.length - 1 }).map((n) => valid.slice(0, n)),
    fc.constantFrom('A', 'x', '.', '.e30', '=', '==').map((s) => valid + s),
    fc.integer({ min: 0, max: valid.length - 1 }).map((i) => {
      // Not the last character: its low bits may be base64url padding, which decoders ignore.
      const at = Math.min(i, valid.length - 2);
      const c = valid[at] === 'A' ? 'B' : 'A';
      return valid.slice(0, at) + (valid[at] === '.' ? '.' : c) + valid.slice(at + 1);
    }),
    fc.constant(parts.slice(0, 2).join('.')),
    fc.constant(`${parts[0]}.${parts[1]}.`),
    fc.constant(`${b64u('{"alg":"none","typ":"at+jwt"}')}.${parts[1]}.`),
    fc.constant(`${parts[0]}.${b64u('{"sub":"someone-else"}')}.${parts[2]}`),
    fc.constant([...parts, parts[2]].join('.')),
  );
}

// ------------------------------------------------------------------------------------------- Authorization

/** Authorization header values that must not authenticate anyone. `brokenToken` derives from a real token. */
export function hostileAuthorization(brokenToken: fc.Arbitrary<string>, adminKey: string): fc.Arbitrary<string> {
  const scheme = fc.constantFrom(
    'Bearer',
    'bearer',
    'BEARER',
    'Bearer:',
    'Bearer=',
    'Token',
    'JWT',
    'Basic',
    'KakaoAK',
    'Digest',
    'MAC',
    '',
  );
  const token = fc.oneof(malformedJwt, brokenToken, hostileShortString);
  const basic = fc
    .oneof(
      fc.constantFrom('', ':', 'a', 'a:', ':b', 'fuzz:', ':fuzz-secret', 'fuzz:wrong', '\u0000:\u0000'),
      fc
        .tuple(hostileShortString, hostileShortString)
        .map(([a, b]) => `${a}:${b}`)
        .filter((s) => s.length < 4000),
    )
    .map((s) => `Basic ${Buffer.from(s).toString('base64')}`);
  const kakaoAk = fc.oneof(
    fc.constantFrom(
      'KakaoAK',
      'KakaoAK ',
      `KakaoAK  ${adminKey}`,
      `KakaoAK ${adminKey}x`,
      `KakaoAK ${adminKey.slice(0, -1)}`,
      // The scheme's case is free (RFC 9110 11.1, the e2e webhook tests); the key's is not.
      `KakaoAK ${adminKey.toUpperCase()}`,
      `kakaoak ${adminKey.toUpperCase()}`,
      `KakaoAK ${adminKey},KakaoAK ${adminKey}`,
      `KakaoAK\t${adminKey}`,
      `Bearer ${adminKey}`,
      `Basic ${Buffer.from(`KakaoAK:${adminKey}`).toString('base64')}`,
      adminKey,
    ),
    hostileShortString.map((s) => `KakaoAK ${s}`),
  );
  return (
    fc
      .oneof(
        fc.tuple(scheme, fc.constantFrom(' ', '  ', '\t', ''), token).map(([s, sep, t]) => `${s}${sep}${t}`),
        fc.constantFrom(
          'Bearer',
          'Bearer ',
          'Bearer  ',
          'Bearer null',
          'Bearer undefined',
          'Bearer a b',
          'Bearer a,Bearer b',
          'Basic',
          'Basic !!!',
          'Basic =',
          'Basic YQ',
          'Basic YTpi YTpi',
          ' ',
          ',',
        ),
        basic,
        kakaoAk,
        fc.string({ unit: 'binary', maxLength: 50 }),
      )
      .map(headerSafe)
      // Node trims the ends of a header value: a padded copy of a real credential would arrive as the credential.
      .filter((v) => v.trim() !== `KakaoAK ${adminKey}`)
  );
}

// ------------------------------------------------------------------------------------------- emails

/** Look-alikes of ASCII letters and of `@` and `.`. */
const CONFUSABLES: Record<string, string[]> = {
  a: ['а', 'ɑ', 'ａ', 'ᵃ'],
  e: ['е', 'ｅ', 'ℯ'],
  o: ['о', 'ο', 'ｏ', '০'],
  i: ['і', 'ı', 'ｉ', 'Ꭵ'],
  c: ['с', 'ϲ', 'ｃ'],
  p: ['р', 'ｐ'],
  x: ['х', 'ｘ'],
  m: ['ｍ', 'rn'],
  k: ['K', 'к'],
  s: ['ѕ', 'ſ'],
  l: ['ӏ', '1', 'ｌ'],
  '@': ['＠', '﹫', '@\u200b'],
  '.': ['．', '。', '\u2024', '٫'],
};

/** `email` with confusable characters, controls, invisible characters, case and spacing changes. */
export function hostileEmail(email: string): fc.Arbitrary<string> {
  const chars = [...email];
  const confusableAt = fc.integer({ min: 0, max: chars.length - 1 }).chain((i) => {
    const options = CONFUSABLES[chars[i].toLowerCase()];
    return options
      ? fc.constantFrom(...options).map((c) => [...chars.slice(0, i), c, ...chars.slice(i + 1)].join(''))
      : fc.constant(email);
  });
  const insertAt = (inserted: fc.Arbitrary<string>) =>
    fc
      .tuple(fc.integer({ min: 0, max: chars.length }), inserted)
      .map(([i, c]) => [...chars.slice(0, i), c, ...chars.slice(i)].join(''));
  return fc.oneof(
    confusableAt,
    confusableAt.chain((once) => fc.constant(once)),
    fc.constant(email.normalize('NFKD')),
    fc.constant(
      [...email].map((c) => (c >= 'a' && c <= 'z' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join(''),
    ),
    insertAt(controlChar),
    insertAt(fc.constantFrom('\u0000', '\r\nBcc: victim@example.com', '\u0301', ' ', '\u3000', '\u00a0')),
    fc.constantFrom(
      email.toUpperCase(),
      ` ${email} `,
      `\n${email}`,
      `${email}.`,
      `${email}\u0000`,
      `"${email}"`,
      `${email.replace('@', '(comment)@')}`,
      `${email.split('@')[0]}@[127.0.0.1]`,
      `${email.split('@')[0]}@xn--80ak6aa92e.com`,
      `${email.split('@')[0]}+tag@${email.split('@')[1]}`,
      `${email},attacker@example.com`,
      `attacker@example.com\u0000${email}`,
      `${email}%00`,
    ),
    fc.emailAddress(),
  );
}
