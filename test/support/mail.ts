import type { TestApp } from './app';

export interface SentMail {
  to: string;
  subject: string;
  template: string;
  text: string;
  link?: string;
}

/** Waits until the service has written a mail (MAIL_TRANSPORT=log) matching `predicate` to its log. */
export async function waitForMail(
  app: TestApp,
  predicate: { to?: string; template?: string },
  timeoutMs = 10_000,
): Promise<SentMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of app.logs) {
      const mail = line.mail as SentMail | undefined;
      if (!mail) continue;
      if (predicate.to !== undefined && mail.to !== predicate.to) continue;
      if (predicate.template !== undefined && mail.template !== predicate.template) continue;
      return { ...mail, link: /https?:\/\/\S+/.exec(mail.text)?.[0] };
    }
    if (Date.now() > deadline) throw new Error(`no mail ${JSON.stringify(predicate)} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
