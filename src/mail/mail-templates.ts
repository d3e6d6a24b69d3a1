export type MailTemplate = 'email-verification' | 'reactivation' | 'account-linked' | 'withdrawal-complete';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const TEMPLATES: Record<MailTemplate, (v: Record<string, string>) => { subject: string; lines: string[] }> = {
  'email-verification': (v) => ({
    subject: '이메일 주소를 확인해 주세요 / Please verify your email address',
    lines: [
      `${v.name ? `${v.name}님, ` : ''}아래 링크를 눌러 이메일 주소를 확인해 주세요. (24시간 동안 유효)`,
      'Open the link below to verify your email address (valid for 24 hours).',
      v.link,
    ],
  }),
  reactivation: (v) => ({
    subject: '휴면 계정 해제 안내 / Reactivate your account',
    lines: [
      `${v.name ? `${v.name}님, ` : ''}계정이 휴면 상태입니다. 아래 링크로 다시 사용할 수 있습니다. (1시간 동안 유효)`,
      'Your account is deactivated. Open the link below to reactivate it (valid for 1 hour).',
      v.link,
    ],
  }),
  'account-linked': (v) => ({
    subject: '카카오 계정이 연결되었습니다 / Your Kakao account was linked',
    lines: [
      `${v.name ? `${v.name}님, ` : ''}카카오 계정이 연결되었습니다.`,
      'A Kakao account was linked to your account.',
    ],
  }),
  'withdrawal-complete': () => ({
    subject: '회원 탈퇴가 완료되었습니다 / Your account was deleted',
    lines: ['회원 탈퇴가 완료되었습니다.', 'Your account and its personal data were deleted.'],
  }),
};

export function renderMail(template: MailTemplate, vars: Record<string, string>): RenderedMail {
  const { subject, lines } = TEMPLATES[template](vars);
  const present = lines.filter((l): l is string => Boolean(l));
  return {
    subject,
    text: present.join('\n\n'),
    html: present
      .map((l) => (/^https?:\/\//.test(l) ? `<p><a href="${escape(l)}">${escape(l)}</a></p>` : `<p>${escape(l)}</p>`))
      .join('\n'),
  };
}
