/**
 * `POST /oauth/token` (KAKAO_API.md 2) as a function of the form parameters, independent of the HTTP layer:
 * the Fastify route and the server's fast path (server.ts) both answer through it.
 */
import { createHash } from 'node:crypto';
import { clientKind } from './config';
import type { EmulatorContext } from './context';
import type { Params } from './wire';

export const TOKEN_PATH = '/oauth/token';

export interface TokenAnswer {
  status: number;
  /** JSON text. */
  body: string;
}

const error = (status: number, err: string, description: string, code: string): TokenAnswer => ({
  status,
  // kauth errors: {error, error_description, error_code} (KAKAO_API.md 2, Token-endpoint errors).
  body: JSON.stringify({ error: err, error_description: description, error_code: code }),
});

/**
 * KOE237, the per-user token rate limit (KAKAO_API.md 2, Token-endpoint errors): status 429 and the
 * description as the doc gives them (both marked UNCONFIRMED there); the doc names no `error`, and
 * `invalid_request` is what third-party code shows with KOE237.
 */
const rateLimited = (): TokenAnswer => error(429, 'invalid_request', 'token request rate limit exceeded', 'KOE237');

export type TokenEndpoint = (p: Params) => Promise<TokenAnswer>;

export function createTokenEndpoint(ctx: EmulatorContext): TokenEndpoint {
  const { config, state, tokens, faults } = ctx;

  return async (p) => {
    if (p.grant_type !== 'authorization_code' && p.grant_type !== 'refresh_token') {
      return error(400, 'unsupported_grant_type', `unsupported grant_type: ${p.grant_type ?? ''}`, 'KOE001');
    }
    const kind = clientKind(config, p.client_id);
    if (!kind) return error(401, 'invalid_client', `Invalid client_id: ${p.client_id ?? ''}`, 'KOE101');
    // The client secret belongs to the REST API key (client_secret_post; KAKAO_API.md 2).
    if (kind === 'rest' && config.clientSecret && p.client_secret !== config.clientSecret) {
      return error(401, 'invalid_client', 'Bad client credentials', 'KOE010');
    }
    // Looked up only when tokens are issued, so a refused request does not use up an id_token fault.
    const idTokenFault = () => faults.takeIdTokenFault('POST', TOKEN_PATH);

    if (p.grant_type === 'authorization_code') {
      const code = p.code ?? '';
      const entry = state.codes.get(code);
      // Single use: a code is spent the moment it is presented, whatever the outcome (KOE320 afterwards).
      state.codes.delete(code);
      const notFound = () => error(400, 'invalid_grant', `authorization code not found for code=${code}`, 'KOE320');
      if (!entry || entry.expiresAt <= Date.now() || entry.clientId !== p.client_id) return notFound();
      if (entry.redirectUri !== p.redirect_uri) return error(400, 'invalid_grant', 'Redirect URI mismatch.', 'KOE303');
      if (entry.codeChallenge !== undefined) {
        const verifier = p.code_verifier ?? '';
        const ok =
          /^[A-Za-z0-9._~-]{43,128}$/.test(verifier) &&
          createHash('sha256').update(verifier).digest('base64url') === entry.codeChallenge;
        // Kakao's PKCE error code is UNCONFIRMED (KAKAO_API.md 10); RFC 7636 says invalid_grant.
        if (!ok) return error(400, 'invalid_grant', 'PKCE verification failed: code_verifier does not match', 'KOE320');
      }
      const user = state.users.get(entry.userId);
      if (!user || !user.linked) return notFound();
      if (!state.allowTokenGrant(user.persona.id, 'authorization_code')) return rateLimited();
      const answer = await tokens.issue({
        user,
        clientId: entry.clientId,
        openid: entry.openid,
        authTime: entry.authTime,
        nonce: entry.nonce,
        idTokenFault: idTokenFault(),
      });
      return { status: 200, body: JSON.stringify(answer) };
    }

    if (!p.refresh_token) return error(400, 'invalid_request', 'refresh_token is required', 'KOE319');
    const entry = state.refreshTokens.get(p.refresh_token);
    const user = entry && state.users.get(entry.userId);
    if (!entry || !user || !user.linked || entry.expiresAt <= Date.now() || entry.clientId !== p.client_id) {
      return error(400, 'invalid_grant', 'expired_or_invalid_refresh_token', 'KOE322');
    }
    if (!state.allowTokenGrant(user.persona.id, 'refresh_token')) return rateLimited();
    return { status: 200, body: JSON.stringify(await tokens.refresh(p.refresh_token, entry, user, idTokenFault())) };
  };
}
