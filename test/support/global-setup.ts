import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../scripts/lib/embedded-postgres';

/**
 * Starts one real PostgreSQL for the whole e2e run (each test file then creates its own database), or
 * uses TEST_DATABASE_URL when set (a server where we may CREATE DATABASE).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) {
    process.env.TEST_PG_ADMIN_URL = process.env.TEST_DATABASE_URL;
    return;
  }
  const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'kakao-auth-test-')), 'pg');
  const pg = await startEmbeddedPostgres({ dataDir, persistent: false, fast: true });
  (globalThis as { __EMBEDDED_PG__?: unknown }).__EMBEDDED_PG__ = pg;
  process.env.TEST_PG_ADMIN_URL = pg.url('postgres');
}
