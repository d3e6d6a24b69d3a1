/**
 * The service's API as the demo page calls it: JSON over fetch from the page's own origin, typed after
 * API.md's shapes. Errors come back in the service's error shape and are thrown as ApiFailure.
 */

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface Identity {
  provider: 'kakao';
  providerUserId: string;
  connectedAt: string | null;
  linkedAt: string;
}

export interface Member {
  id: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  status: string;
  createdAt: string;
  loginMethods: string[];
  profile: Record<string, string | boolean | null> & {
    nickname: string | null;
    thumbnailImageUrl: string | null;
  };
  identities: Identity[];
}

export type LoginResult =
  | 'LOGGED_IN'
  | 'SIGNED_UP'
  | 'LINKED'
  | 'RECERTIFIED'
  | 'LINK_REQUIRED'
  | 'VERIFICATION_REQUIRED'
  | 'MANDATORY_ITEMS_NOT_AGREED'
  | 'TERMS_REQUIRED'
  | 'DEACTIVATED_MEMBER';

export interface LoginOutcome {
  result: LoginResult;
  tokens?: Tokens;
  member?: Member;
  linkTicket?: string;
  candidate?: { maskedEmail: string | null; maskedName: string | null };
  missingItems?: string[];
  termsTicket?: string;
  missingTerms?: string[];
  consentUrl?: string;
}

/** A term of the catalog (GET /terms, TERMS_CATALOG_FILE). */
export interface CatalogTerm {
  tag: string;
  title: string;
  url?: string;
  required: boolean;
  revocable: boolean;
}

/** GET /members/me/terms. */
export interface MemberTerms {
  terms: Array<{
    tag: string;
    title: string;
    required: boolean;
    agreed: boolean;
    agreedAt: string | null;
    source: string | null;
    revocable: boolean;
  }>;
  history?: unknown[];
}

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  requestId?: string;
  details?: unknown;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(`${body.code}: ${body.message}`);
    this.name = 'ApiFailure';
  }

  get code(): string {
    return this.body.code;
  }
}

export interface CallRecord {
  method: string;
  path: string;
  status: number;
  requestId: string | null;
}

const listeners: Array<(call: CallRecord) => void> = [];

/** Every call the page makes, for its activity panel. */
export function onCall(listener: (call: CallRecord) => void): void {
  listeners.push(listener);
}

/**
 * One JSON call. Paths are relative ("auth/login"), resolved against the page's URL (/demo), so the page
 * works wherever the service is mounted. A network failure becomes an ApiFailure with status 0.
 */
export async function call<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      // The login-binding cookie of POST /auth/kakao/authorize-url is set on this origin.
      credentials: 'same-origin',
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ApiFailure(0, { statusCode: 0, code: 'NETWORK_ERROR', message });
  }
  const requestId = res.headers.get('x-request-id');
  for (const listener of listeners) listener({ method, path: `/${path}`, status: res.status, requestId });
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!res.ok) {
    const error = isErrorBody(body)
      ? body
      : { statusCode: res.status, code: `HTTP_${res.status}`, message: text.slice(0, 200) || res.statusText };
    throw new ApiFailure(res.status, { ...error, requestId: error.requestId ?? requestId ?? undefined });
  }
  return body as T;
}

function isErrorBody(body: unknown): body is ErrorBody {
  return typeof body === 'object' && body !== null && typeof (body as ErrorBody).code === 'string';
}
