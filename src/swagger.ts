import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { ResponsesObject, SecurityRequirementObject } from '@nestjs/swagger';
import { ERROR_STATUS } from './common/errors/error-codes';
import type { AppConfig } from './config/app-config';

export const SWAGGER_TAGS = {
  kakao: 'Kakao login',
  auth: 'Email members and login continuations',
  tokens: 'Tokens',
  members: 'Members',
  terms: 'Terms',
  webhooks: 'Kakao webhooks',
  operations: 'Operations',
} as const;

const DESCRIPTION = `
Kakao Login / Kakao Sync authentication service. It signs people in with Kakao, matches them to the
service's existing email members, keeps their Kakao Sync terms agreements, and issues its **own** tokens
(an HS256 access JWT and a rotating opaque refresh token) independent of Kakao's.

### Login flows
1. **Redirect flow** (server-side): the browser opens \`GET /auth/kakao/login?returnTo=…\`; the service
   stores a login transaction (state, nonce, PKCE verifier) and redirects to Kakao. Kakao redirects back to
   \`GET /auth/kakao/callback\`; the service exchanges the code, verifies the id_token and answers \`303\` to
   \`returnTo?ticket=…\`. The front-end exchanges the one-time ticket with \`POST /auth/tickets/exchange\`
   for a **LoginOutcome**. Tokens never travel in a URL.
2. **Hybrid flow**: a front-end gets the code with Kakao's JavaScript SDK and posts it to
   \`POST /auth/kakao/code\`.
3. **Native SDK flow**: an app posts the Kakao access token (and id_token) to \`POST /auth/kakao/native\`.

Redirect flow, step by step:

\`\`\`
Browser            Service                          Kakao (kauth/kapi)
  | GET /auth/kakao/login?returnTo=… |                        |
  |--------------------------------->| store transaction       |
  |<-- 302 authorize URL + cookie ---| (state, nonce, PKCE)    |
  |------------------------ GET /oauth/authorize ------------->|
  |<----------------------- 302 /auth/kakao/callback?code&state|
  | GET /auth/kakao/callback (cookie)|                        |
  |--------------------------------->| spend state (once)      |
  |                                  |-- POST /oauth/token --->| code + code_verifier
  |                                  |<- tokens + id_token ----|
  |                                  |-- GET /v2/user/me ----->|
  |                                  | verify id_token, decide |
  |<-- 303 returnTo?ticket=… --------|                        |
  | POST /auth/tickets/exchange      |                        |
  |--------------------------------->|                        |
  |<-- 200 LoginOutcome (tokens) ----|                        |
\`\`\`

Every login answers a **LoginOutcome** whose \`result\` tells the branch: \`LOGGED_IN\`, \`SIGNED_UP\`,
\`LINKED\`, \`RECERTIFIED\`, or a continuation (\`LINK_REQUIRED\`, \`VERIFICATION_REQUIRED\`,
\`MANDATORY_ITEMS_NOT_AGREED\`, \`TERMS_REQUIRED\`, \`DEACTIVATED_MEMBER\`).

### Authentication
- **bearer**: the service's own access token (\`Authorization: Bearer …\`).
- **basic**: service-to-service callers from \`SERVICE_CLIENTS\`.

Errors always have the shape \`{statusCode, code, message, requestId, details?}\`; branch on \`code\`.
\`details\` is a list of \`{field, errors}\` when a request fails its schema, an object otherwise (e.g.
\`{kakaoCode: -101}\`). \`SERVICE_UNAVAILABLE\` is only the answer of \`GET /health/ready\` while the database
is down.

| code | status |
| --- | --- |
${Object.entries(ERROR_STATUS)
  .map(([code, status]) => `| \`${code}\` | ${status} |`)
  .join('\n')}
`;

const ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } };

/** Errors of the Kakao calls a route makes, by route (method and path as in the document). */
const KAKAO_ERRORS: Record<string, Record<string, string>> = {
  'get /auth/kakao/callback': {
    '401': "ID_TOKEN_INVALID: Kakao's id_token failed verification",
    '403':
      'KAKAO_ACCESS_DENIED (the person cancelled), KAKAO_CONSENT_REQUIRED (prompt=none needs interaction), RECERTIFICATION_REQUIRED',
  },
  'post /auth/kakao/code': { '401': "ID_TOKEN_INVALID: Kakao's id_token failed verification" },
  'post /auth/kakao/native': {
    '401': 'UNAUTHENTICATED (the Kakao access token is not valid for this app) or ID_TOKEN_INVALID',
  },
  'post /members/me/kakao': { '403': 'FORBIDDEN' },
};
const CALLS_KAKAO = new Set([
  'get /auth/kakao/callback',
  'post /auth/kakao/code',
  'post /auth/kakao/native',
  'post /auth/terms/agree',
  'post /members/me/kakao',
  'delete /members/me/kakao',
  'delete /members/me',
  'post /members/me/terms',
  'delete /members/me/terms/{tag}',
  'post /members/me/terms/sync',
]);

/**
 * Kakao's webhooks never answer VALIDATION_FAILED: the unlink webhook answers every authenticated call 200
 * (KAKAO_API.md 7.1), the account status webhook refuses in RFC 8935's shape.
 */
const NO_VALIDATION_FAILED = new Set([
  'get /webhooks/kakao/unlink',
  'post /webhooks/kakao/unlink',
  'post /webhooks/kakao/account-events',
]);

/** Routes whose Bearer token is optional: `intent: login` needs none; logout also takes the refresh token alone. */
const OPTIONAL_BEARER = new Set(['post /auth/kakao/authorize-url', 'post /auth/logout']);

function addError(responses: ResponsesObject, status: string, description: string): void {
  const existing = responses[status] as { description?: string } | undefined;
  // The codes this answer names; a handler's own description that names them all already says it.
  const codes = description.split(':')[0].match(/[A-Z_]{4,}/g) ?? [];
  if (!existing) responses[status] = { description, content: ERROR_CONTENT };
  else if (!codes.every((code) => existing.description?.includes(code))) {
    existing.description = existing.description ? `${existing.description}; ${description}` : description;
  }
}

/**
 * The answers every route shares (a body or query that fails validation, a missing or bad credential, a
 * failed Kakao call, an unexpected error), added to each operation here rather than repeated on each
 * handler, so no route can forget one.
 */
function documentSharedErrors(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      const route = `${method} ${path}`;
      // OpenAPI's way to say "this security, or none": an empty requirement beside it.
      if (OPTIONAL_BEARER.has(route)) op.security = [{}, { bearer: [] }];
      const schemes = (op.security ?? []).flatMap((requirement: SecurityRequirementObject) => Object.keys(requirement));
      if ((op.requestBody || op.parameters?.length) && !NO_VALIDATION_FAILED.has(route)) {
        addError(op.responses, '400', 'VALIDATION_FAILED: the request does not match its schema (details per field)');
      }
      if (schemes.includes('bearer')) {
        addError(op.responses, '401', 'UNAUTHENTICATED or TOKEN_EXPIRED: a missing, invalid or expired access token');
      }
      if (schemes.includes('basic')) {
        addError(op.responses, '401', 'SERVICE_UNAUTHORIZED: missing or wrong HTTP Basic credentials');
      }
      for (const [status, description] of Object.entries(KAKAO_ERRORS[route] ?? {})) {
        addError(op.responses, status, description);
      }
      if (CALLS_KAKAO.has(route)) {
        addError(op.responses, '502', 'KAKAO_UNAVAILABLE: Kakao answered with something unusable');
        addError(op.responses, '503', 'KAKAO_UNAVAILABLE: Kakao is failing or in maintenance; retry later');
        addError(op.responses, '504', 'KAKAO_UNAVAILABLE: Kakao did not answer within KAKAO_HTTP_TIMEOUT_MS');
      }
      addError(op.responses, '500', 'INTERNAL_ERROR: an unexpected failure, logged with the request id');
    }
  }
}

export function buildOpenApiDocument(app: INestApplication, config: AppConfig) {
  const builder = new DocumentBuilder()
    .setTitle('Kakao Auth Service')
    .setDescription(DESCRIPTION)
    .setVersion('1.0')
    .addServer(config.http.publicUrl)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addBasicAuth({ type: 'http', scheme: 'basic' }, 'basic');
  for (const tag of Object.values(SWAGGER_TAGS)) builder.addTag(tag);
  const document = SwaggerModule.createDocument(app, builder.build());
  documentSharedErrors(document);
  return document;
}

export function setupSwagger(app: INestApplication, config: AppConfig): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, config), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Kakao Auth Service API',
  });
}
