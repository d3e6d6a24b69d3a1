import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { KakaoClient } from '../kakao/kakao.client';
import { Public } from '../common/auth/public.decorator';
import { SWAGGER_TAGS } from '../swagger';
import { ErrorResponse } from '../common/errors';

@ApiTags(SWAGGER_TAGS.operations)
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly kakao: KakaoClient,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiResponse({ status: 200, schema: { example: { status: 'ok' } } })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: the database answers a ping (503 while it does not); Kakao’s circuit is reported',
    description:
      '`kakao.circuit` is `open` while calls to Kakao are paused after repeated failures (`degraded: true`). That does not make the service unready: tokens, refresh and introspection work without Kakao.',
  })
  @ApiResponse({ status: 503, type: ErrorResponse })
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 1500 }),
      () => {
        const circuit = this.kakao.circuit;
        return this.indicators.check('kakao').up({ circuit, degraded: circuit !== 'closed' });
      },
    ]);
  }
}
