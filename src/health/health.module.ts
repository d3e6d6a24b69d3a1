import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { KakaoModule } from '../kakao/kakao.module';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'json' }), KakaoModule],
  controllers: [HealthController],
})
export class HealthModule {}
