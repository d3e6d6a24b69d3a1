import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A link or re-certification started from a signed-in session must end with that session: a stolen access
 * token could otherwise start a link that outlives the member's "log out everywhere" and plant its own
 * Kakao account as a way in. The transaction remembers the session; the callback finds it still live.
 */
export class LoginTransactionSession1763800000800 implements MigrationInterface {
  name = 'LoginTransactionSession1763800000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE login_transactions ADD COLUMN session_id uuid NULL REFERENCES sessions (id) ON DELETE CASCADE`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE login_transactions DROP COLUMN session_id`);
  }
}
