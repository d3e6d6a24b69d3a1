import { createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { MailService } from '../../src/mail/mail.service';
import { startTestApp, TestApp } from '../support/app';
import { waitForMail } from '../support/mail';

/** A minimal SMTP server that refuses the first `failures` mails with a temporary error, then accepts. */
function smtpServer(
  failures: number,
): Promise<{ server: Server; port: number; received: string[]; attempts: () => number }> {
  const received: string[] = [];
  let attempts = 0;
  const server = createServer((socket: Socket) => {
    let data = false;
    let body = '';
    socket.write('220 test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      for (const line of chunk
        .toString()
        .split('\r\n')
        .filter((l, i, all) => l !== '' || i < all.length - 1)) {
        if (data) {
          if (line === '.') {
            data = false;
            received.push(body);
            socket.write('250 queued\r\n');
          } else body += `${line}\n`;
          continue;
        }
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO' || cmd === 'HELO') socket.write('250 test\r\n');
        else if (cmd === 'MAIL') socket.write(++attempts <= failures ? '451 try again later\r\n' : '250 ok\r\n');
        else if (cmd === 'RCPT') socket.write('250 ok\r\n');
        else if (cmd === 'DATA') {
          data = true;
          socket.write('354 go\r\n');
        } else if (cmd === 'QUIT') socket.end('221 bye\r\n');
        else if (cmd === 'RSET') socket.write('250 ok\r\n');
        else if (line) socket.write('250 ok\r\n');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, received, attempts: () => attempts }),
    ),
  );
}

describe('job queue and mail', () => {
  describe('with the log transport', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { LOG_LEVEL: 'info' } });
    });
    afterAll(() => t.close());

    it('has its schema from a migration', async () => {
      const schema = await t.db.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = 'pgboss'`);
      expect(schema.rows).toHaveLength(1);
      const migration = await t.db.query(`SELECT 1 FROM schema_migrations WHERE name = 'JobQueue1763800000100'`);
      expect(migration.rows).toHaveLength(1);
    });

    it('delivers a mail queued in a committed transaction, and never one from a rolled-back transaction', async () => {
      const mail = t.app.get(MailService);
      const dataSource = t.app.get(DataSource);
      await dataSource
        .transaction(async (manager) => {
          await mail.queue(
            { to: 'rolled-back@example.com', template: 'email-verification', vars: { name: 'X', link: 'https://x/1' } },
            manager,
          );
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await dataSource.transaction((manager) =>
        mail.queue(
          {
            to: 'committed@example.com',
            template: 'email-verification',
            vars: { name: '홍길동', link: 'https://app.example.com/#t=1' },
          },
          manager,
        ),
      );
      const sent = await waitForMail(t, { to: 'committed@example.com' });
      expect(sent.subject).toContain('Please verify your email address');
      expect(sent.link).toBe('https://app.example.com/#t=1');
      const jobs = await t.db.query(`SELECT data->>'to' AS "to" FROM pgboss.job WHERE name = 'mail-send'`);
      expect(jobs.rows.map((r: { to: string }) => r.to)).toEqual(['committed@example.com']);
      expect(t.logs.some((l) => (l.mail as { to?: string } | undefined)?.to === 'rolled-back@example.com')).toBe(false);
    });
  });

  it('retries a mail the SMTP server refused until it is accepted', async () => {
    const smtp = await smtpServer(2);
    const t = await startTestApp({
      env: { MAIL_TRANSPORT: `smtp://127.0.0.1:${smtp.port}` },
      queue: { retryDelaySeconds: 1 },
    });
    try {
      await t.app
        .get(MailService)
        .queue({ to: 'retry@example.com', template: 'reactivation', vars: { name: 'R', link: 'https://x/r' } });
      const deadline = Date.now() + 30_000;
      while (smtp.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(smtp.attempts()).toBe(3);
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]).toContain('retry@example.com');
    } finally {
      await t.close();
      smtp.server.close();
    }
  }, 45_000);
});
