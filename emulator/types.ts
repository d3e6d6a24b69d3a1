/**
 * Public types of the Kakao emulator. Field names on the wire follow KAKAO_API.md; the TypeScript-side
 * names here are camelCase.
 */

/** A Kakao test user ("persona"). Absent data fields mean the Kakao account does not have that data. */
export interface Persona {
  /**
   * Kakao user id as a decimal string. Real ids are 64-bit and exceed 2^53 (KAKAO_API.md, "Critical for
   * NestJS"), so they are never held as JS numbers; the wire writes them as raw JSON numbers.
   */
  id: string;
  /** Short handle used in docs and tests (e.g. `full`, `dormant`). */
  key?: string;
  description?: string;
  nickname?: string;
  /** The nickname was replaced by Kakao's "닉네임을 등록해주세요" placeholder (KAKAO_API.md 4). */
  isDefaultNickname?: boolean;
  /** 640×640 image URL; Kakao's default image when absent. */
  profileImageUrl?: string;
  /** 110×110 thumbnail URL; Kakao's default thumbnail when absent. */
  thumbnailImageUrl?: string;
  /** Defaults to true when `profileImageUrl` is absent. */
  isDefaultImage?: boolean;
  name?: string;
  email?: string;
  /** false when the email has since been taken by another Kakao account (KAKAO_API.md 4). */
  isEmailValid?: boolean;
  isEmailVerified?: boolean;
  /** Kakao's `/v2/user/me` format, e.g. `+82 010-1234-5678` (KAKAO_API.md 4, Phone). */
  phoneNumber?: string;
  /** `YYYY` */
  birthyear?: string;
  /** `MMDD` */
  birthday?: string;
  birthdayType?: 'SOLAR' | 'LUNAR';
  isLeapMonth?: boolean;
  gender?: 'female' | 'male';
  /** One of Kakao's buckets, e.g. `20~29` (KAKAO_API.md 4, Age range). */
  ageRange?: string;
  /** Custom user properties defined in the app (`properties` of `/v2/user/me`). */
  properties?: Record<string, string>;
  /** `for_partner.uuid`; derived from the id when absent. */
  uuid?: string;
  /** Consent items and optional service-term tags this person unticks on the consent screen. */
  declines?: string[];
  /** Already linked to the app when the emulator starts. */
  linked?: boolean;
  /**
   * For `linked` personas: whether the app has already called `/v1/user/signup` (default true). `false` starts
   * the user PREREGISTERED, which only shows while auto-link is OFF (KAKAO_API.md 4, `has_signed_up`).
   */
  signedUp?: boolean;
  /** Consent items already given when `linked` (default: every configured item with data, minus `declines`). */
  consentedScopes?: string[];
  /** Service-term tags already agreed (through the consent screen, `KAUTH`) when `linked`. */
  agreedTerms?: string[];
  /** When the app was linked (RFC 3339), for `linked` personas; the emulator's start time otherwise. */
  connectedAt?: string;
  /** A dormant Kakao account: kapi answers -103 (KAKAO_API.md 8, Kakao Login codes). */
  dormant?: boolean;
}

/** A service term registered in the app (Kakao Sync, KAKAO_API.md 6). */
export interface ServiceTermConfig {
  tag: string;
  required: boolean;
  /** Whether the user can revoke it through `/v2/user/revoke/service_terms`. Defaults to `!required`. */
  revocable?: boolean;
  /** Shown on the consent page. */
  title?: string;
}

/** Another key of the same app: accepted as `client_id` and as id_token `aud`. */
export interface AppKey {
  key: string;
  /** Decides the access-token lifetime (KAKAO_API.md 2, Lifetimes): native 12 h, JavaScript 2 h. */
  type: 'native' | 'javascript';
}

export interface KakaoEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Listen address; default `127.0.0.1`. */
  host?: string;
  /** Base URL clients and browsers use to reach the emulator; default `http://<host>:<port>`. */
  publicUrl?: string;
  restApiKey: string;
  /** When set, token requests with the REST API key must carry it (KOE010 otherwise). */
  clientSecret?: string;
  adminKey: string;
  /** Numeric app id, as a string. */
  appId: string;
  /** App name shown on the consent page and in service-terms error messages. */
  appName?: string;
  redirectUris: string[];
  logoutRedirectUris?: string[];
  /** Other keys of the app (a plain string is a native app key). */
  extraAppKeys?: Array<string | AppKey>;
  /** Service terms registered in the app; see DEFAULT_SERVICE_TERMS. */
  serviceTerms?: ServiceTermConfig[];
  /** Consent items configured in the app (default: every item the emulator knows). */
  consentItems?: string[];
  /** Consent items set as required in the console (default `['profile_nickname']`). */
  requiredScopes?: string[];
  /** OpenID Connect enabled in the console (default true): id_tokens are issued (KAKAO_API.md 2). */
  oidc?: boolean;
  /**
   * Auto-link in the console (default true). Off: a user who consents is linked but PREREGISTERED until the
   * app calls `POST /v1/user/signup`, and `/v2/user/me` carries `has_signed_up` (KAKAO_API.md 4).
   */
  autoLink?: boolean;
  /**
   * Kakao's per-user token rate limit (KAKAO_API.md 2, 8): more than 20 authorization_code grants in 10 minutes,
   * or 30 refresh_token grants in an hour, for one user answers KOE237. Default false: the service's test
   * suites, benchmarks and `npm run dev` log one persona in far more often than that.
   */
  tokenRateLimit?: boolean;
  /**
   * Custom user properties defined in the console, on top of Kakao's default `nickname`, `profile_image` and
   * `thumbnail_image`: the keys `/v1/user/signup` accepts in `properties` (others: -201).
   */
  userPropertyKeys?: string[];
  /** JSON file of personas; default `emulator/personas.json`. */
  personasFile?: string;
  /** Personas given directly (replaces the file). */
  personas?: Persona[];
  /** `iss` of id_tokens and SETs; default the emulator's own base URL. */
  issuer?: string;
  /** RSA modulus length of the signing keys (default 2048; jose refuses less for RS256). */
  rsaBits?: number;
  /** Fastify request logging (pino); default off. */
  logger?: boolean;
}

/** An injected fault, applied to requests of one endpoint. */
export interface FaultSpec {
  /** Endpoint path, e.g. `/oauth/token` or `/v2/user/me`. */
  path?: string;
  /** Alias of `path`. */
  endpoint?: string;
  /** HTTP method; any when absent. */
  method?: string;
  /** Answer with this status and `body` instead of running the endpoint. */
  status?: number;
  /** Body sent with `status`: an object is sent as JSON, a string as is. Kakao uses `{msg, code}` on kapi. */
  body?: unknown;
  /** Extra response headers with `status`. */
  headers?: Record<string, string>;
  /** Wait this long first (then apply the rest of the fault, or answer normally). */
  delayMs?: number;
  /** Never answer (the socket is destroyed on clearFaults/close). */
  hang?: boolean;
  /** Answer 200 with a body that is not JSON. */
  invalidJson?: boolean;
  /** `/oauth/token` answers normally but without `id_token`. */
  omitIdToken?: boolean;
  /** `/oauth/token` answers normally but with a misbehaving id_token (an OP under test; see `IdTokenFault`). */
  idToken?: IdTokenFault;
  /** Number of matching requests it applies to; until cleared when absent. */
  times?: number;
}

/**
 * How an OP gets an id_token wrong (the OpenID Foundation's RP tests: wrong `iss`, no `sub`, foreign `aud`, no
 * `iat`, another `nonce`, no `kid`, `alg: none`, a bad signature). The token is otherwise the genuine one.
 */
export interface IdTokenFault {
  /** Merged over the genuine claims; `null` removes a claim (e.g. `{ sub: null }`). */
  claims?: Record<string, unknown>;
  /** Merged over the JOSE header `{kid, typ, alg}`; `null` removes a member (e.g. `{ kid: null }`). */
  header?: Record<string, unknown>;
  /**
   * Default: RS256 with the current signing key. `none`: an unsecured JWS (`alg: none`, empty signature;
   * RFC 7519 6.1). `invalid`: an RS256 signature that does not verify (one bit of it flipped).
   */
  signature?: 'none' | 'invalid';
}

export interface Fault extends FaultSpec {
  id: string;
  path: string;
}

/** Token answer of `/oauth/token` (KAKAO_API.md 2), also returned by `issueTokensFor`. */
export interface TokenResponse {
  token_type: 'bearer';
  access_token: string;
  id_token?: string;
  expires_in: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  scope?: string;
}

export interface IssueTokensOptions {
  /** The app key the SDK was initialised with (id_token `aud`); default the REST API key. */
  clientId?: string;
  nonce?: string;
  /** Consent items to grant (default: every configured item with data, minus the persona's declines). */
  scopes?: string[];
  /** Issue an id_token (default: the app's `oidc` setting). */
  openid?: boolean;
  /** Service terms to mark agreed (`KAUTH`) while linking. */
  terms?: string[];
  /** `auth_time` in UNIX seconds; default now. */
  authTime?: number;
}

export interface WebhookResult {
  /** The receiver's HTTP status; 0 when it did not answer (network error or the 3 s timeout). */
  status: number;
  body: string;
  durationMs: number;
  error?: string;
}

export interface UnlinkWebhookInput {
  userId: string;
  /** KAKAO_API.md 7.1; default `UNLINK_FROM_APPS`. */
  referrerType?: string;
  /** GET (query string) or POST (form body); default POST. */
  method?: 'GET' | 'POST';
  appId?: string;
  /** Override the admin key sent (to test the receiver's refusal). */
  adminKey?: string;
  groupUserToken?: string;
}

export interface AccountStatusEventInput {
  userId: string;
  /** Event-type URI, or a short name of SET_EVENT_TYPES (e.g. `user-unlinked`); default `user-unlinked`. */
  event?: string;
  /** `reason` of the event (user-unlinked: UNLINK_FROM_APPS, ACCOUNT_DELETE, …). */
  reason?: string;
  /** Extra members of the event object. */
  eventData?: Record<string, unknown>;
  /** `aud`; default the REST API key (KAKAO_API.md 7.2). */
  audience?: string;
  issuer?: string;
  jti?: string;
  /** Time of event (UNIX seconds); default now. */
  toe?: number;
}

export interface AccountStatusResult extends WebhookResult {
  jti: string;
  /** The Security Event Token that was sent. */
  token: string;
}

/** A user's state as the control API reports it. */
export interface UserSnapshot {
  id: string;
  key?: string;
  description?: string;
  nickname?: string;
  email?: string;
  dormant: boolean;
  linked: boolean;
  /**
   * The app called `/v1/user/signup` (or the user was linked while auto-link was ON). With auto-link ON every
   * linked user counts as REGISTERED whatever this says.
   */
  signedUp: boolean;
  connectedAt?: string;
  synchedAt?: string;
  scopes: string[];
  terms: Array<{ tag: string; agreedAt: string; agreedBy: 'KAUTH' | 'KAPI' }>;
}

/** One request the emulator received (for assertions on what a client sent). */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  authorization?: string;
  contentType?: string;
}
