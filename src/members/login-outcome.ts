import type { TokenPair } from '../tokens/sessions.service';
import type { Member } from './member';

/** Which branch a login took (API.md, LoginOutcome). */
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
  tokens?: TokenPair;
  member?: Member;
  linkTicket?: string;
  candidate?: { maskedEmail: string | null; maskedName: string | null };
  missingItems?: string[];
  termsTicket?: string;
  missingTerms?: string[];
  consentUrl?: string;
}
