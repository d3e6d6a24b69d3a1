import type { EntityManager } from 'typeorm';

/**
 * Runs SQL and returns its rows whatever the command. TypeORM's `query` answers UPDATE and DELETE with
 * `[rows, rowCount]` but SELECT and INSERT with the rows alone; repositories should not care.
 */
export async function queryRows<T>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const result: unknown = await manager.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}
