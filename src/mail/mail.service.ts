import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import nodemailer, { Transporter } from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { QueueService } from '../queue/queue.service';
import { SINGLE_ADDRESS } from './mail-address';
import { MailTemplate, renderMail } from './mail-templates';

export interface MailMessage {
  /** One address, no display name. */
  to: string;
  template: MailTemplate;
  /** e.g. `name`, `link` (see mail-templates.ts). */
  vars: Record<string, string>;
}

/** pg-boss 10 documents queue names as letters, digits, `_` and `-`, hence not `mail.send`. */
export const MAIL_QUEUE = 'mail-send';

/** Nodemailer waits up to 2 minutes to connect and 10 minutes on a silent socket; a job should not. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };
/** Above the SMTP timeouts: an attempt that still hangs is failed and retried. */
const MAIL_JOB_EXPIRE_SECONDS = 120;

/** Nodemailer's transport for MAIL_TRANSPORT (validated by config: `log`, `smtp://…` or `smtps://…`). */
export function createMailTransport(mailTransport: string): Transporter {
  if (mailTransport === 'log') return nodemailer.createTransport({ jsonTransport: true });
  // Options given in the URL's query (e.g. ?socketTimeout=…) win over the defaults.
  return nodemailer.createTransport({ ...SMTP_TIMEOUTS, ...parseConnectionUrl(mailTransport) });
}

/**
 * Mails are jobs: queued in the transaction of the change that causes them (a rolled-back sign-up sends
 * nothing, a committed one always sends), then sent by a worker with retries. MAIL_TRANSPORT=log writes
 * them, links included, to the log at info level under `mail`: that transport exists for development.
 */
@Injectable()
export class MailService implements OnModuleInit {
  private readonly logger = new Logger('Mail');
  private readonly transport: Transporter;
  private readonly toLog: boolean;
  private readonly from: string;

  constructor(
    private readonly jobs: QueueService,
    @InjectConfig() config: AppConfig,
  ) {
    this.toLog = config.mailTransport === 'log';
    this.transport = createMailTransport(config.mailTransport);
    this.from = `no-reply@${new URL(config.http.publicUrl).hostname}`;
  }

  onModuleInit(): void {
    this.jobs.work<MailMessage>(MAIL_QUEUE, (message) => this.send(message), {
      expireInSeconds: MAIL_JOB_EXPIRE_SECONDS,
      personalData: true,
    });
  }

  /** Queues a mail; with `manager` (a transaction's) it is sent only if that transaction commits. */
  async queue(message: MailMessage, manager?: EntityManager): Promise<void> {
    // Nodemailer reads a comma-separated list as several recipients: one address only.
    if (!SINGLE_ADDRESS.test(message.to)) throw new Error('A mail needs exactly one recipient address');
    await this.jobs.send(MAIL_QUEUE, message, { manager });
  }

  /** Sends one mail; a failure throws so the queue retries it. */
  private async send(message: MailMessage): Promise<void> {
    const mail = renderMail(message.template, message.vars);
    await this.transport.sendMail({ from: this.from, to: { name: '', address: message.to }, ...mail });
    if (this.toLog) {
      this.logger.log(
        { mail: { to: message.to, subject: mail.subject, template: message.template, text: mail.text } },
        'Mail',
      );
    }
  }
}
