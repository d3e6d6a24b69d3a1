import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Link tickets: a Kakao login that matched an existing member waits here (10 minutes, single use) for the
 * person to confirm (LINK_REQUIRED) or to prove the account with its password (VERIFICATION_REQUIRED).
 * The Kakao profile and tokens are sealed (AES-256-GCM). Plus an index for matching by name.
 */
export class LinkTickets1763800000400 implements MigrationInterface {
  name = 'LinkTickets1763800000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE link_tickets (
        ticket_hash bytea PRIMARY KEY,
        member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('confirm', 'verify')),
        kakao_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX link_tickets_expires_idx ON link_tickets (expires_at)`);
    // Same normalisation as normalizeName() in the code: NFKC, lower case, no white space.
    await q.query(
      `CREATE INDEX members_name_normalized_idx ON members ((regexp_replace(lower(normalize(name, NFKC)), '\\s+', '', 'g')))
       WHERE name IS NOT NULL AND status = 'active'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX members_name_normalized_idx`);
    await q.query(`DROP TABLE link_tickets`);
  }
}
