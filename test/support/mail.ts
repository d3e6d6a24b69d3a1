import { waitForLogs, type TestApp } from './app';

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
  const matches = (line: Record<string, unknown>) => {
    const mail = line.mail as SentMail | undefined;
    return (
      mail !== undefined &&
      (predicate.to === undefined || mail.to === predicate.to) &&
      (predicate.template === undefined || mail.template === predicate.template)
    );
  };
  const [line] = await waitForLogs(app, matches, 1, timeoutMs);
  if (!line) throw new Error(`no mail ${JSON.stringify(predicate)} within ${timeoutMs} ms`);
  const mail = line.mail as SentMail;
  return { ...mail, link: /https?:\/\/\S+/.exec(mail.text)?.[0] };
}
