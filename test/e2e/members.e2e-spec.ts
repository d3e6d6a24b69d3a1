import { startTestApp, TestApp } from '../support/app';
import { call, decodeJwt, signup, uniqueEmail } from '../support/http';
import { waitForMail } from '../support/mail';
import { MembersService } from '../../src/members/members.service';

describe('email members', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Mails are written to the log (MAIL_TRANSPORT=log), so the log level must let them through.
    t = await startTestApp({ env: { LOG_LEVEL: 'info', ALLOWED_RETURN_URLS: 'https://app.example.com/auth' } });
  });
  afterAll(() => t.close());

  const login = (email: string, password: string) => call(t, 'POST', '/auth/login', { body: { email, password } });

  describe('sign-up', () => {
    it('creates a member and signs them in at once', async () => {
      const email = uniqueEmail('Hong');
      const res = await call(t, 'POST', '/auth/signup', {
        body: { email, password: 'correct horse battery staple', name: '홍길동' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        result: 'SIGNED_UP',
        tokens: {
          accessToken: expect.any(String),
          refreshToken: expect.any(String),
          tokenType: 'Bearer',
          expiresIn: 900,
        },
        member: {
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          email,
          emailVerified: false,
          name: '홍길동',
          status: 'active',
          createdAt: expect.any(String),
          loginMethods: ['password'],
          profile: {
            nickname: null,
            profileImageUrl: null,
            thumbnailImageUrl: null,
            gender: null,
            ageRange: null,
            birthyear: null,
            birthday: null,
            birthdayType: null,
            isLeapMonth: null,
            phoneNumber: null,
          },
          identities: [],
        },
      });
      const me = await call(t, 'GET', '/members/me', { token: res.body.tokens.accessToken });
      expect(me.body).toEqual(res.body.member);
      const stored = await t.db.query(`SELECT password_hash FROM members WHERE id = $1`, [res.body.member.id]);
      expect(stored.rows[0].password_hash).toMatch(/^\$argon2id\$/);
    });

    it('refuses an email already taken, compared case- and width-insensitively', async () => {
      const { email } = await signup(t);
      const [local, domain] = email.split('@');
      const fullWidthDomain = domain.replace('example', 'ｅｘａｍｐｌｅ');
      for (const variant of [email.toUpperCase(), ` ${email} `, `${local}@${fullWidthDomain}`]) {
        const res = await call(t, 'POST', '/auth/signup', {
          body: { email: variant, password: 'another password!', name: 'X' },
        });
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('EMAIL_TAKEN');
      }
    });

    it('refuses bad input field by field', async () => {
      const cases = [
        { email: 'not-an-email', password: 'long enough password', name: 'A' },
        { email: uniqueEmail(), password: 'short', name: 'A' },
        { email: uniqueEmail(), password: '        ', name: 'A' },
        { email: uniqueEmail(), password: 'long enough password', name: '' },
        { email: uniqueEmail(), password: 'long enough password', name: 'A\u0000B' },
        { email: uniqueEmail(), password: 'long enough password', name: 'A', role: 'admin' },
        { email: uniqueEmail(), password: 12345678, name: 'A' },
      ];
      for (const body of cases) {
        const res = await call(t, 'POST', '/auth/signup', { body });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
    });

    it('mails a verification link whose token verifies the email once', async () => {
      const { email, accessToken } = await signup(t);
      const mail = await waitForMail(t, { to: email, template: 'email-verification' });
      expect(mail.link).toMatch(/^https:\/\/app\.example\.com\/auth#email-verification-token=/);
      const token = new URL(mail.link!).hash.split('=')[1];
      expect((await call(t, 'POST', '/auth/email/verify', { body: { token } })).status).toBe(204);
      expect((await call(t, 'GET', '/members/me', { token: accessToken })).body.emailVerified).toBe(true);
      const again = await call(t, 'POST', '/auth/email/verify', { body: { token } });
      expect(again.status).toBe(400);
      expect(again.body.code).toBe('TICKET_INVALID');
    });
  });

  describe('password login', () => {
    it('logs in with the email in any case, with amr pwd', async () => {
      const { email, password, outcome } = await signup(t);
      const res = await login(email.toUpperCase(), password);
      expect(res.status).toBe(200);
      expect(res.body.result).toBe('LOGGED_IN');
      expect(res.body.member.id).toBe(outcome.member.id);
      expect(decodeJwt(res.body.tokens.accessToken).payload.amr).toEqual(['pwd']);
    });

    it('answers the same INVALID_CREDENTIALS for a wrong password and an unknown email', async () => {
      const { email } = await signup(t);
      const wrong = await login(email, 'not the password');
      const unknown = await login(uniqueEmail(), 'not the password');
      for (const res of [wrong, unknown]) {
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('INVALID_CREDENTIALS');
      }
      expect(wrong.body.message).toBe(unknown.body.message);
    });

    it('writes audit events with the member id and no personal data', async () => {
      const { email, password, outcome } = await signup(t);
      await login(email, password);
      await login(email, 'wrong password');
      const rows = await t.db.query(
        `SELECT type, data::text AS data FROM audit_events WHERE member_id = $1 ORDER BY id`,
        [outcome.member.id],
      );
      expect(rows.rows.map((r: { type: string }) => r.type)).toEqual([
        'member.signed_up',
        'member.logged_in',
        'member.login_failed',
      ]);
      for (const r of rows.rows as Array<{ data: string }>) {
        expect(r.data).not.toContain(email);
        expect(r.data).not.toContain('홍길동');
      }
    });
  });

  describe('deactivated members', () => {
    it('are told DEACTIVATED_MEMBER with no tokens, mailed a reactivation link, and come back with it', async () => {
      const { email, password, accessToken, outcome } = await signup(t);
      await t.app.get(MembersService).deactivate(outcome.member.id);
      // Deactivation ends every session.
      expect((await call(t, 'GET', '/members/me', { token: accessToken })).status).toBe(401);

      const res = await login(email, password);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ result: 'DEACTIVATED_MEMBER' });
      const mail = await waitForMail(t, { to: email, template: 'reactivation' });
      const token = new URL(mail.link!).hash.split('=')[1];

      const back = await call(t, 'POST', '/auth/reactivate', { body: { token } });
      expect(back.status).toBe(200);
      expect(back.body.result).toBe('LOGGED_IN');
      expect(back.body.member.status).toBe('active');
      expect((await call(t, 'GET', '/members/me', { token: back.body.tokens.accessToken })).status).toBe(200);
      expect((await call(t, 'POST', '/auth/reactivate', { body: { token } })).body.code).toBe('TICKET_INVALID');
      expect((await login(email, password)).body.result).toBe('LOGGED_IN');
    });

    it('are not told DEACTIVATED_MEMBER without the right password', async () => {
      const { email, outcome } = await signup(t);
      await t.app.get(MembersService).deactivate(outcome.member.id);
      expect((await login(email, 'wrong password')).body.code).toBe('INVALID_CREDENTIALS');
    });
  });
});

describe('login rate limits', () => {
  describe('wrong passwords per account', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { RATE_LIMIT_ACCOUNT_FAILURES_PER_MINUTE: '2' } });
    });
    afterAll(() => t.close());

    const login = (email: string, password: string) => call(t, 'POST', '/auth/login', { body: { email, password } });

    it('counts only failures: a member signing in often is never locked out', async () => {
      const m = await signup(t);
      for (let i = 0; i < 5; i++) expect((await login(m.email, m.password)).status).toBe(200);
    });

    it('locks the account past the limit, for the right password too and whatever the spelling', async () => {
      const m = await signup(t);
      const other = await signup(t);
      for (let i = 0; i < 3; i++) expect((await login(m.email, 'a wrong guess')).status).toBe(401);
      const locked = await login(m.email, m.password);
      expect({ status: locked.status, code: locked.body.code }).toEqual({ status: 429, code: 'RATE_LIMITED' });
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await login(m.email.toUpperCase(), m.password)).status).toBe(429);
      // The count is the account's: proving it for a Kakao link is locked as well.
      const verify = await call(t, 'POST', '/auth/link/verify', {
        body: { linkTicket: 'R'.repeat(43), email: m.email, password: m.password },
      });
      expect(verify.status).toBe(429);
      // Another account from the same address is not.
      expect((await login(other.email, other.password)).status).toBe(200);
    });

    it('locks an unknown email the same way, so the lock tells nothing about which accounts exist', async () => {
      const nobody = uniqueEmail();
      for (let i = 0; i < 3; i++) expect((await login(nobody, 'a wrong guess')).status).toBe(401);
      expect((await login(nobody, 'a wrong guess')).status).toBe(429);
    });
  });

  describe('per address', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { RATE_LIMIT_AUTH_PER_MINUTE: '3' } });
    });
    afterAll(() => t.close());

    it('limits the requests of one address to a route, whichever accounts they name', async () => {
      const attempt = () => call(t, 'POST', '/auth/login', { body: { email: uniqueEmail(), password: 'guess' } });
      for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(401);
      const refused = await attempt();
      expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 429, code: 'RATE_LIMITED' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });
});
