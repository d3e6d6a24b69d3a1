import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { KakaoModule } from '../kakao/kakao.module';
import { TermsCatalog } from './terms-catalog';
import { TermsController } from './terms.controller';
import { TermsRepository } from './terms.repository';
import { TermsService } from './terms.service';

/** Kakao Sync service terms: the catalog, members' agreements and their history. */
@Module({
  imports: [DatabaseModule, KakaoModule],
  controllers: [TermsController],
  providers: [TermsCatalog, TermsRepository, TermsService],
  exports: [TermsCatalog, TermsService],
})
export class TermsModule {}
