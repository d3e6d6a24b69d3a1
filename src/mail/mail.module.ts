import { Module } from '@nestjs/common';
import { MailService } from './mail.service';

/** Mails through the job queue (QueueModule is global). */
@Module({ providers: [MailService], exports: [MailService] })
export class MailModule {}
