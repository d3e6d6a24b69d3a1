import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth/public.decorator';
import { SWAGGER_TAGS } from '../swagger';
import { MetricsService } from './metrics.service';

@ApiTags(SWAGGER_TAGS.operations)
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiProduces('text/plain')
  @ApiOperation({ summary: 'Prometheus metrics: request counts and latency per route, Node process metrics' })
  @ApiOkResponse({
    description: 'Prometheus text exposition format 0.0.4',
    content: {
      'text/plain': {
        schema: { type: 'string' },
        example:
          '# TYPE http_requests_total counter\nhttp_requests_total{method="GET",route="/members/me",status_code="200"} 42\n',
      },
    },
  })
  render(): Promise<string> {
    return this.metrics.render();
  }
}
