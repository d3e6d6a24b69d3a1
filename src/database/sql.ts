import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs SQL and returns its rows whatever the command. TypeORM's `query` answers UPDATE and DELETE with
 * `[rows, rowCount]` but SELECT and INSERT with the rows alone; repositories should not care.
 */
export async function queryRows<T>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  // Outside a transaction the statement goes straight to the pool: TypeORM's query runner per statement
  // (acquire, events, result wrapping) was a measurable share of GET /members/me (bench/README.md).
  const pool = manager.queryRunner ? undefined : poolOf(manager.dataSource);
  if (pool) return (await pool.query(sql, params)).rows as T[];
  const result: unknown = await manager.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

/** The pg pool behind a TypeORM data source (the one requests use). */
export function poolOf(dataSource: DataSource): Pool | undefined {
  const driver = dataSource.driver;
  return driver instanceof PostgresDriver ? (driver.master as Pool | undefined) : undefined;
}
