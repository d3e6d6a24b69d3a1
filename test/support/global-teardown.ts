import type { EmbeddedPostgresHandle } from '../../scripts/lib/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const pg = (globalThis as { __EMBEDDED_PG__?: EmbeddedPostgresHandle }).__EMBEDDED_PG__;
  if (pg) await pg.stop();
}
