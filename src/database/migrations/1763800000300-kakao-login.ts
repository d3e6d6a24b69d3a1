import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Kakao login: server-side login transactions (state, nonce, PKCE verifier; any instance can finish them),
 * one-time tickets that carry a finished login to the front-end, and the Kakao tokens kept per identity.
 */
export class KakaoLogin1763800000300 implements MigrationInterface {
  name = 'KakaoLogin1763800000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE login_transactions (
        state_hash bytea PRIMARY KEY,
        -- Hash of the browser-binding cookie: a state is only accepted from the browser that started it.
        binding_hash bytea NOT NULL,
        nonce text NOT NULL,
        code_verifier_sealed text NOT NULL,
        intent text NOT NULL CHECK (intent IN ('login', 'link', 'recertify')),
        member_id uuid NULL REFERENCES members (id) ON DELETE CASCADE,
        return_to text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX login_transactions_expires_idx ON login_transactions (expires_at)`);

    await q.query(`
      CREATE TABLE login_tickets (
        ticket_hash bytea PRIMARY KEY,
        outcome_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX login_tickets_expires_idx ON login_tickets (expires_at)`);

    await q.query(`
      CREATE TABLE kakao_tokens (
        identity_id uuid PRIMARY KEY REFERENCES member_identities (id) ON DELETE CASCADE,
        access_token_sealed text NOT NULL,
        access_expires_at timestamptz NOT NULL,
        refresh_token_sealed text NULL,
        refresh_expires_at timestamptz NULL,
        scopes text NOT NULL DEFAULT '',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE kakao_tokens`);
    await q.query(`DROP TABLE login_tickets`);
    await q.query(`DROP TABLE login_transactions`);
  }
}
