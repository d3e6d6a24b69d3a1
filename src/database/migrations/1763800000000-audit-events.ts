import { MigrationInterface, QueryRunner } from 'typeorm';

/** Security and lifecycle events; holds member ids only, never personal data. */
export class AuditEvents1763800000000 implements MigrationInterface {
  name = 'AuditEvents1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        type text NOT NULL,
        member_id uuid NULL,
        request_id text NULL,
        data jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(
      `CREATE INDEX audit_events_member_idx ON audit_events (member_id, occurred_at) WHERE member_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX audit_events_type_idx ON audit_events (type, occurred_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
  }
}
