import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Kakao Sync service terms: the catalog (mirrored from TERMS_CATALOG_FILE at start), each member's current
 * state per tag, an append-only history of every change, whether the state is known to be stale (Kakao
 * could not be read), and the tickets of logins waiting for required terms (TERMS_REQUIRED).
 */
export class Terms1763800000500 implements MigrationInterface {
  name = 'Terms1763800000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE terms (
        tag text PRIMARY KEY,
        title text NOT NULL,
        url text NOT NULL,
        required boolean NOT NULL,
        revocable boolean NOT NULL,
        position integer NOT NULL,
        -- false once the tag left the catalog file; kept because history rows refer to it
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE member_terms (
        member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
        tag text NOT NULL REFERENCES terms (tag),
        agreed boolean NOT NULL,
        agreed_at timestamptz NULL,
        agreed_by text NULL CHECK (agreed_by IN ('KAUTH', 'KAPI')),
        source text NOT NULL CHECK (source IN ('kakao_sync', 'service')),
        -- Kakao's last answer for this tag (null: never read), to know where a revocation must go
        kakao_agreed boolean NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (member_id, tag)
      )`);
    await q.query(`
      CREATE TABLE member_terms_history (
        id bigserial PRIMARY KEY,
        member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
        tag text NOT NULL REFERENCES terms (tag),
        agreed boolean NOT NULL,
        agreed_at timestamptz NULL,
        agreed_by text NULL,
        source text NOT NULL CHECK (source IN ('kakao_sync', 'service')),
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        request_id text NULL
      )`);
    await q.query(`CREATE INDEX member_terms_history_member_idx ON member_terms_history (member_id, id)`);
    // Append-only: rows are added and, at withdrawal, deleted with the person; never rewritten.
    await q.query(`
      CREATE FUNCTION member_terms_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'member_terms_history is append-only';
      END $$`);
    await q.query(`
      CREATE TRIGGER member_terms_history_no_update BEFORE UPDATE ON member_terms_history
      FOR EACH ROW EXECUTE FUNCTION member_terms_history_append_only()`);
    await q.query(`
      ALTER TABLE members
        ADD COLUMN terms_synced_at timestamptz NULL,
        ADD COLUMN terms_stale boolean NOT NULL DEFAULT false`);
    await q.query(`
      CREATE TABLE terms_tickets (
        ticket_hash bytea PRIMARY KEY,
        member_id uuid NULL REFERENCES members (id) ON DELETE CASCADE,
        missing text[] NOT NULL,
        continuation_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX terms_tickets_expires_idx ON terms_tickets (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE terms_tickets`);
    await q.query(`ALTER TABLE members DROP COLUMN terms_stale, DROP COLUMN terms_synced_at`);
    await q.query(`DROP TABLE member_terms_history`);
    await q.query(`DROP FUNCTION member_terms_history_append_only`);
    await q.query(`DROP TABLE member_terms`);
    await q.query(`DROP TABLE terms`);
  }
}
