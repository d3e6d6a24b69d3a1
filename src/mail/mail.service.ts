// TEMPORARY STUB (lead): replaced by the mail module being built; lets the members code compile meanwhile.
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface MailMessage {
  to: string;
  template: 'email-verification' | 'reactivation' | 'account-linked' | 'withdrawal-complete';
  vars: Record<string, string>;
}

@Injectable()
export class MailService {
  private readonly logger = new Logger('Mail');
  async queue(message: MailMessage, _manager?: EntityManager): Promise<void> {
    this.logger.log(
      { mail: { to: message.to, template: message.template, subject: message.template, text: message.vars.link } },
      'mail',
    );
  }
}
