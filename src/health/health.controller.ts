import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { KakaoClient } from '../kakao/kakao.client';
import { Public } from '../common/auth/public.decorator';
import { SWAGGER_TAGS } from '../swagger';
import { ErrorResponse } from '../common/errors';

const DB_PING_TIMEOUT_MS = 1500;

@ApiTags(SWAGGER_TAGS.operations)
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @InjectDataSource() private readonly dataSource: DataSource,
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
      () => this.pingDatabase(),
      () => {
        const circuit = this.kakao.circuit;
        return this.indicators.check('kakao').up({ circuit, degraded: circuit !== 'closed' });
      },
    ]);
  }

  /**
   * `SELECT 1` within the time a load balancer's probe allows. Our own rather than terminus's TypeORM
   * indicator: that one imports `@nestjs/typeorm` again at run time, which finds no connection in a bundled
   * build (a second copy of the package, with its own DataSource class).
   */
  private async pingDatabase() {
    const indicator = this.indicators.check('database');
    const TIMED_OUT = `no answer within ${DB_PING_TIMEOUT_MS} ms`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), DB_PING_TIMEOUT_MS);
    });
    try {
      const answer: unknown = await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
      return answer === TIMED_OUT ? indicator.down({ message: TIMED_OUT }) : indicator.up();
    } catch {
      // The driver's message names hosts and ports: a public probe answer says only what kind of failure.
      return indicator.down({ message: 'the database refused or failed the ping' });
    } finally {
      clearTimeout(timer);
    }
  }
}
