import { Body, Controller, Get, Logger, Module, Post, Query } from '@nestjs/common';
import { IsEmail, IsInt, IsString, Max, Min } from 'class-validator';
import { QueryFailedError } from 'typeorm';
import { Public } from '../../src/common/auth/public.decorator';
import { RateLimited } from '../../src/common/rate-limit/rate-limit';

class ProbeBody {
  @IsEmail()
  email!: string;

  @IsInt()
  @Min(1)
  @Max(10)
  count!: number;

  @IsString()
  note!: string;
}

/**
 * Routes that exist only in platform tests: the cross-cutting pieces (validation, error filter, rate
 * limiting, logging) need an endpoint to act on before any feature module has one.
 */
@Public()
@Controller('__probe')
class ProbeController {
  @Post('echo')
  echo(@Body() body: ProbeBody) {
    return body;
  }

  @Get('boom')
  boom(): never {
    throw new Error('database password is hunter2 at /srv/secret/path');
  }

  @Get('boom-query')
  boomQuery(): never {
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint "members_email_key"'), {
      code: '23505',
      detail: 'Key (email)=(leaked.person@example.com) already exists.',
    });
    throw new QueryFailedError('INSERT INTO members (email) VALUES ($1)', ['leaked.person@example.com'], driverError);
  }

  /** Logs from inside a request, after its body was read and an await: the line must carry the request. */
  @Post('log')
  async log(@Body() body: ProbeBody) {
    await new Promise((resolve) => setImmediate(resolve));
    new Logger('Probe').warn(`probe line ${body.note}`);
    return { ok: true };
  }

  @Get('limited')
  @RateLimited({ limit: 2, ttlMs: 60_000 })
  limited(@Query('code') _code?: string) {
    return { ok: true };
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
