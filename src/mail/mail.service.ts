import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import nodemailer, { Transporter } from 'nodemailer';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { QueueService } from '../queue/queue.service';
import { MailTemplate, renderMail } from './mail-templates';

export interface MailMessage {
  to: string;
  template: MailTemplate;
  vars: Record<string, string>;
}

export const MAIL_QUEUE = 'mail-send';

/**
 * Mails are jobs: queued in the transaction of the change that causes them (a rolled-back sign-up sends
 * nothing, a committed one always sends), then sent by a worker with retries. MAIL_TRANSPORT=log writes
 * them, links included, to the log: that transport exists for development.
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
    this.transport = this.toLog
      ? nodemailer.createTransport({ jsonTransport: true })
      : nodemailer.createTransport(config.mailTransport);
    this.from = `no-reply@${new URL(config.http.publicUrl).hostname}`;
  }

  onModuleInit(): void {
    this.jobs.work<MailMessage>(MAIL_QUEUE, (message) => this.send(message));
  }

  async queue(message: MailMessage, manager?: EntityManager): Promise<void> {
    await this.jobs.send(MAIL_QUEUE, message, { manager });
  }

  /** Sends one mail; a failure throws so the queue retries it. */
  private async send(message: MailMessage): Promise<void> {
    const mail = renderMail(message.template, message.vars);
    await this.transport.sendMail({ from: this.from, to: message.to, ...mail });
    if (this.toLog) {
      this.logger.log(
        { mail: { to: message.to, subject: mail.subject, template: message.template, text: mail.text } },
        'Mail',
      );
    }
  }
}
