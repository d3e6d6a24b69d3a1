import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { AppException } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { ConfigError } from '../config/environment';
import { DatabaseMigrator } from '../database/database-migrator';

/** One term of the service as registered in Kakao's console (KAKAO_API.md 6): its tag is the key. */
export interface Term {
  tag: string;
  title: string;
  url: string;
  required: boolean;
  revocable: boolean;
}

/** Kakao's tags are short identifiers; the same pattern guards tags arriving in requests. */
export const TAG_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Reads and checks a catalog (a JSON list of terms); every problem is named, none is guessed around. */
export function parseCatalog(json: string, source: string): Term[] {
  const fail = (problem: string): never => {
    throw new ConfigError([`TERMS_CATALOG_FILE (${source}): ${problem}`]);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    return fail(`not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed)) return fail('expected a JSON list of terms');
  const seen = new Set<string>();
  const terms = parsed.map((entry: unknown, i): Term => {
    const t = (entry ?? {}) as Record<string, unknown>;
    const at = `entry ${i}`;
    if (typeof t.tag !== 'string' || !TAG_PATTERN.test(t.tag)) fail(`${at}: tag must match ${TAG_PATTERN}`);
    if (typeof t.title !== 'string' || !t.title.trim()) fail(`${at}: title must be a non-empty string`);
    if (typeof t.url !== 'string' || !/^https?:\/\//.test(t.url)) fail(`${at}: url must be an http(s) URL`);
    if (typeof t.required !== 'boolean') fail(`${at}: required must be true or false`);
    if (typeof t.revocable !== 'boolean') fail(`${at}: revocable must be true or false`);
    // Kakao lets only optional terms be revoked (KAKAO_API.md 6, revoke).
    if (t.required && t.revocable) fail(`${at} (${String(t.tag)}): a required term cannot be revocable`);
    if (seen.has(t.tag as string)) fail(`${at}: duplicate tag ${String(t.tag)}`);
    seen.add(t.tag as string);
    return {
      tag: t.tag as string,
      title: t.title as string,
      url: t.url as string,
      required: t.required as boolean,
      revocable: t.revocable as boolean,
    };
  });
  return terms;
}

/** TERMS_CATALOG_FILE read and checked; a file that cannot be read is a ConfigError like a bad entry. */
export function readCatalog(file: string): Term[] {
  let json: string;
  try {
    json = readFileSync(file, 'utf8');
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    const reason = code === 'ENOENT' ? 'no such file' : message;
    throw new ConfigError([`TERMS_CATALOG_FILE (${file}): cannot read ${path.resolve(file)}: ${reason}`]);
  }
  return parseCatalog(json, file);
}

/**
 * The service's terms: read from TERMS_CATALOG_FILE when the app is built (a bad file stops the start) and
 * mirrored into the `terms` table at bootstrap, so history rows always refer to a known tag. Tags that left
 * the file stay in the table as inactive.
 */
@Injectable()
export class TermsCatalog implements OnApplicationBootstrap {
  private readonly terms: Term[];
  private readonly byTag: Map<string, Term>;

  constructor(
    @InjectConfig() config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly migrator: DatabaseMigrator,
  ) {
    this.terms = readCatalog(config.termsCatalogFile);
    this.byTag = new Map(this.terms.map((t) => [t.tag, t]));
    // Warned here, not in parseCatalog, which the start-up check runs too: once per start, in the app's log.
    if (!this.terms.some((t) => t.required)) {
      // Kakao's consent screen needs at least one required tag in `service_terms` (KAKAO_API.md 1).
      new Logger('TermsCatalog').warn(
        `${config.termsCatalogFile} has no required term: service_terms re-consent cannot be offered`,
      );
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.migrator.ensureMigrated();
    // One statement, so instances starting together cannot interleave half a catalog.
    await this.dataSource.query(
      `WITH file AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb)
           AS f(tag text, title text, url text, required boolean, revocable boolean, position integer)
       ), upserted AS (
         INSERT INTO terms (tag, title, url, required, revocable, position, active)
         SELECT tag, title, url, required, revocable, position, true FROM file
         ON CONFLICT (tag) DO UPDATE SET title = EXCLUDED.title, url = EXCLUDED.url, required = EXCLUDED.required,
           revocable = EXCLUDED.revocable, position = EXCLUDED.position, active = true, updated_at = now()
         RETURNING tag
       )
       UPDATE terms SET active = false, updated_at = now() WHERE active AND tag NOT IN (SELECT tag FROM file)`,
      [JSON.stringify(this.terms.map((t, position) => ({ ...t, position })))],
    );
  }

  all(): readonly Term[] {
    return this.terms;
  }

  get(tag: string): Term | undefined {
    return this.byTag.get(tag);
  }

  required(): Term[] {
    return this.terms.filter((t) => t.required);
  }

  /** The tags, in catalog order; any tag not in the catalog → UNKNOWN_TERM naming them. */
  known(tags: readonly string[]): string[] {
    const unknown = [...new Set(tags)].filter((t) => !this.byTag.has(t));
    if (unknown.length) {
      throw new AppException('UNKNOWN_TERM', `Unknown term tag(s): ${unknown.join(', ')}`, { unknownTags: unknown });
    }
    return this.terms.map((t) => t.tag).filter((t) => tags.includes(t));
  }
}
