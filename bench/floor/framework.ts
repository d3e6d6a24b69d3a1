/**
 * The framework's own price per request, with no work behind it: the same empty introspection route served
 * by NestJS (Fastify adapter, a guard, the global ValidationPipe and a DTO, as the service does) or by bare
 * Fastify (a hook and a typeof check). Nothing touches a database or a token, so the difference between
 * the two is what Nest's request pipeline costs, which no change to our own code can take away.
 *
 *   node dist/bench/floor/framework.js nest|fastify   (FLOOR_PORT; GET /ready answers once it listens)
 */
import 'reflect-metadata';
import { timingSafeEqual } from 'node:crypto';
import {
  Body,
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  UnauthorizedException,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import Fastify from 'fastify';

const EXPECTED = Buffer.from(`Basic ${Buffer.from('floor:secret').toString('base64')}`);
const authorised = (header: string | undefined) => {
  const given = Buffer.from(header ?? '');
  return given.length === EXPECTED.length && timingSafeEqual(given, EXPECTED);
};
const ANSWER = { active: false };

class IntrospectDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  token!: string;
}

@Injectable()
class ClientGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!authorised(context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers.authorization)) {
      throw new UnauthorizedException();
    }
    return true;
  }
}

@Controller()
class FloorController {
  /** Only for the runner to know the server is up. */
  @Get('ready')
  ready() {
    return ANSWER;
  }

  @Post('introspect')
  @HttpCode(200)
  @UseGuards(ClientGuard)
  // The DTO is what makes Nest validate the body; the answer does not depend on it, as in the Fastify route.
  introspect(@Body() _body: IntrospectDto) {
    return ANSWER;
  }
}

@Module({ controllers: [FloorController] })
class FloorModule {}

async function main(): Promise<void> {
  const port = Number(process.env.FLOOR_PORT);
  if (process.argv[2] === 'nest') {
    const app = await NestFactory.create<NestFastifyApplication>(FloorModule, new FastifyAdapter(), { logger: false });
    app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
    await app.listen({ port, host: '127.0.0.1' });
  } else {
    const app = Fastify();
    app.get('/ready', async () => ANSWER);
    app.post('/introspect', async (request, reply) => {
      if (!authorised(request.headers.authorization)) return reply.code(401).send({ error: 'unauthorized' });
      const token = (request.body as { token?: unknown } | null)?.token;
      if (typeof token !== 'string' || !token || token.length > 4096) return reply.code(400).send({ error: 'invalid' });
      return ANSWER;
    });
    await app.listen({ port, host: '127.0.0.1' });
  }
}

void main();
