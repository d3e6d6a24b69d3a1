import { ArgumentMetadata, HttpException, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException } from './errors';
import { hasUnpairedSurrogate } from './text';

export interface FieldError {
  field: string;
  errors: string[];
}

/** Flattens class-validator's tree into `[{field: 'a.b', errors: [...]}]`, the `details` of VALIDATION_FAILED. */
export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, errors: Object.values(e.constraints) }] : [];
    return [...own, ...flattenValidationErrors(e.children ?? [], field)];
  });
}

/** No request of the API nests deeper than a few levels; class-transformer recurses once per level. */
export const MAX_DEPTH = 32;

/**
 * What makes a body, query or path unfit for the DTO machinery: strings holding U+0000, which PostgreSQL
 * text cannot store and refuses in a query parameter (a 500 deep in a repository); strings holding an
 * unpaired surrogate ("\ud800", half an emoji), which PostgreSQL's json refuses (a name went into a mail job
 * that way: a 500 at sign-up); and nesting deeper than MAX_DEPTH, which overflowed class-transformer's stack
 * (a 500 for a 10 KiB body of brackets).
 */
export function unfitFields(value: unknown, prefix = '', depth = 0): FieldError[] {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return [{ field: prefix, errors: ['must not contain U+0000'] }];
    return hasUnpairedSurrogate(value) ? [{ field: prefix, errors: ['must not contain an unpaired surrogate'] }] : [];
  }
  if (!value || typeof value !== 'object') return [];
  if (depth >= MAX_DEPTH) return [{ field: prefix, errors: [`must not be nested deeper than ${MAX_DEPTH} levels`] }];
  return Object.entries(value).flatMap(([key, v]) => unfitFields(v, prefix ? `${prefix}.${key}` : key, depth + 1));
}

const invalid = (details?: FieldError[]) => new AppException('VALIDATION_FAILED', 'The request is invalid', details);

/**
 * The global ValidationPipe, made total: whatever a client sends ends as a value or VALIDATION_FAILED, never
 * as an unexpected error. Besides unfitFields, a validator or transformer that throws on hostile input
 * instead of failing it refuses the input.
 */
class TotalValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const unfit = unfitFields(value);
      if (unfit.length) throw invalid(unfit.map((f) => ({ ...f, field: f.field || metadata.type })));
    }
    try {
      return await super.transform(value, metadata);
    } catch (err) {
      if (err instanceof AppException || err instanceof HttpException) throw err;
      throw invalid();
    }
  }
}

export function createValidationPipe(): ValidationPipe {
  return new TotalValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // Values are never echoed back: a rejected field may hold a password or a token.
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalid(flattenValidationErrors(errors)),
  });
}
