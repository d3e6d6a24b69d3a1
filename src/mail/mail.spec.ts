import { renderMail } from './mail-templates';
import { createMailTransport } from './mail.service';

describe('mail templates', () => {
  it('renders the verification mail in Korean and English, with its link', () => {
    const mail = renderMail('email-verification', { name: '홍길동', link: 'https://app.example.com/#t=abc' });
    expect(mail.subject).toBe('이메일 주소를 확인해 주세요 / Please verify your email address');
    expect(mail.text).toContain('홍길동님');
    expect(mail.text).toContain('Open the link below to verify your email address');
    expect(mail.text).toContain('https://app.example.com/#t=abc');
    expect(mail.html).toContain('<a href="https://app.example.com/#t=abc">');
  });

  it('escapes variables in the HTML part', () => {
    const mail = renderMail('reactivation', { name: '<b>x</b>', link: 'https://x.example/"><script>' });
    expect(mail.html).not.toContain('<b>');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it.each(['email-verification', 'reactivation', 'account-linked', 'withdrawal-complete'] as const)(
    'renders %s without a name or a link',
    (template) => {
      const mail = renderMail(template, {});
      expect(mail.subject).toMatch(/ \/ /);
      expect(mail.text).not.toContain('undefined');
      expect(mail.html).not.toContain('undefined');
    },
  );
});

describe('mail transport', () => {
  it('uses bounded SMTP timeouts unless the URL sets its own', () => {
    const defaults = createMailTransport('smtp://user:p%40ss@mail.example.com:587');
    expect(defaults.options).toMatchObject({
      host: 'mail.example.com',
      port: 587,
      secure: false,
      auth: { user: 'user', pass: 'p@ss' },
      connectionTimeout: 10_000,
      socketTimeout: 30_000,
    });
    const own = createMailTransport('smtps://mail.example.com?socketTimeout=5000');
    expect(own.options).toMatchObject({ secure: true, socketTimeout: 5000, connectionTimeout: 10_000 });
  });

  it('writes JSON for the log transport', () => {
    expect(createMailTransport('log').transporter.name).toBe('JSONTransport');
  });
});
