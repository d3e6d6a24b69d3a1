import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
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
  render(): Promise<string> {
    return this.metrics.render();
  }
}
