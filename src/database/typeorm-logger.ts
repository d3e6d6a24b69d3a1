import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/** Longest part of a failed statement that is logged: enough to recognise it, never a whole bulk insert. */
const MAX_QUERY_CHARS = 300;

/**
 * TypeORM's log lines through the application's logger, without query parameters: TypeORM's own loggers
 * print them with every failed statement, and they are emails, names, token hashes and sealed Kakao tokens.
 */
export class TypeOrmNestLogger implements TypeOrmLogger {
  private readonly logger = new Logger('Database');

  logQuery(): void {
    // Every statement would be noise at any level we run; failures and slow ones are logged below.
  }

  // Parameters are accepted, as TypeORM passes them, and deliberately dropped.
  logQueryError(error: string | Error, query: string, _parameters?: unknown): void {
    const message = typeof error === 'string' ? error : error.message;
    this.logger.error(`Query failed: ${message} [${abbreviate(query)}]`);
  }

  logQuerySlow(time: number, query: string, _parameters?: unknown): void {
    this.logger.warn(`Slow query (${time} ms): ${abbreviate(query)}`);
  }

  logSchemaBuild(message: string): void {
    this.logger.log(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.log(String(message));
  }
}

function abbreviate(query: string): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_QUERY_CHARS ? `${flat.slice(0, MAX_QUERY_CHARS)}…` : flat;
}
