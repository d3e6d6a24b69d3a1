import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Members (the existing email member base Kakao accounts are matched to), their login sessions and rotating
 * refresh tokens, and one-time email tokens (verification, reactivation).
 */
export class MembersAndSessions1763800000200 implements MigrationInterface {
  name = 'MembersAndSessions1763800000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE members (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NULL,
        -- NFKC + lower-case form: the one used for matching and uniqueness.
        email_normalized text NULL,
        email_verified boolean NOT NULL DEFAULT false,
        name text NULL,
        password_hash text NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated', 'withdrawn')),
        -- Kakao-derived profile (nickname, images, birthday, phone…): one column so it can be dropped at once.
        profile jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz NULL,
        deactivated_at timestamptz NULL,
        withdrawn_at timestamptz NULL
      )`);
    await q.query(
      `CREATE UNIQUE INDEX members_email_normalized_key ON members (email_normalized) WHERE email_normalized IS NOT NULL`,
    );

    // External identities (Kakao). The two unique keys are what guarantee, under any concurrency, one member
    // per Kakao account and one Kakao account per member.
    await q.query(`
      CREATE TABLE member_identities (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
        provider text NOT NULL,
        provider_user_id text NOT NULL,
        connected_at timestamptz NULL,
        linked_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT member_identities_provider_user_key UNIQUE (provider, provider_user_id),
        CONSTRAINT member_identities_member_provider_key UNIQUE (member_id, provider)
      )`);

    // A session is one login: the family of refresh tokens it rotates through.
    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
        amr text NOT NULL,
        auth_time timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NULL,
        revoked_reason text NULL
      )`);
    await q.query(`CREATE INDEX sessions_member_live_idx ON sessions (member_id) WHERE revoked_at IS NULL`);

    await q.query(`
      CREATE TABLE refresh_tokens (
        token_hash bytea PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        spent_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`);

    await q.query(`
      CREATE TABLE email_tokens (
        token_hash bytea PRIMARY KEY,
        member_id uuid NOT NULL REFERENCES members (id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('email-verification', 'reactivation')),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX email_tokens_member_idx ON email_tokens (member_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE email_tokens`);
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE sessions`);
    await q.query(`DROP TABLE member_identities`);
    await q.query(`DROP TABLE members`);
  }
}
