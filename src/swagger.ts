import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
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
`;

export function buildOpenApiDocument(app: INestApplication, config: AppConfig) {
  const builder = new DocumentBuilder()
    .setTitle('Kakao Auth Service')
    .setDescription(DESCRIPTION)
    .setVersion('1.0')
    .addServer(config.http.publicUrl)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addBasicAuth({ type: 'http', scheme: 'basic' }, 'basic');
  for (const tag of Object.values(SWAGGER_TAGS)) builder.addTag(tag);
  return SwaggerModule.createDocument(app, builder.build());
}

export function setupSwagger(app: INestApplication, config: AppConfig): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, config), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Kakao Auth Service API',
  });
}
