import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Kakao's webhooks. Each authenticated call is written to a durable inbox before it is answered, then
 * processed by a queue job; the Kakao user id stays only until the call is processed (then only its keyed
 * hash remains). `kakao_unlinks` remembers when a Kakao account was unlinked (keyed hash only), so a login
 * that authenticated before that cannot re-create the link.
 */
export class Webhooks1763800000600 implements MigrationInterface {
  name = 'Webhooks1763800000600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_inbox (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('unlink', 'account_event')),
        -- unlink: app, user, referrer type and a 10-minute bucket; account events: the SET's jti
        dedupe_key text NOT NULL UNIQUE,
        event text NOT NULL,
        reason text NULL,
        kakao_user_id text NULL,
        kakao_user_hash bytea NOT NULL,
        occurred_at timestamptz NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz NULL,
        outcome text NULL
      )`);
    await q.query(`CREATE INDEX webhook_inbox_pending_idx ON webhook_inbox (id) WHERE processed_at IS NULL`);
    await q.query(`
      CREATE TABLE kakao_unlinks (
        kakao_user_hash bytea PRIMARY KEY,
        unlinked_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE kakao_unlinks`);
    await q.query(`DROP TABLE webhook_inbox`);
  }
}
