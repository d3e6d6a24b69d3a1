import { AuditEvents1763800000000 } from './1763800000000-audit-events';
import { JobQueue1763800000100 } from './1763800000100-job-queue';
import { MembersAndSessions1763800000200 } from './1763800000200-members-and-sessions';
import { KakaoLogin1763800000300 } from './1763800000300-kakao-login';
import { LinkTickets1763800000400 } from './1763800000400-link-tickets';
import { Terms1763800000500 } from './1763800000500-terms';
import { Webhooks1763800000600 } from './1763800000600-webhooks';
import { JobFetchOrder1763800000700 } from './1763800000700-job-fetch-order';
import { LoginTransactionSession1763800000800 } from './1763800000800-login-transaction-session';

/**
 * Every migration, in order. Listed explicitly (not globbed) so the same list works from TypeScript in tests
 * and from the compiled build; `migration:generate` writes the file, add its class here.
 */
export const MIGRATIONS = [
  AuditEvents1763800000000,
  JobQueue1763800000100,
  MembersAndSessions1763800000200,
  KakaoLogin1763800000300,
  LinkTickets1763800000400,
  Terms1763800000500,
  Webhooks1763800000600,
  JobFetchOrder1763800000700,
  LoginTransactionSession1763800000800,
];
