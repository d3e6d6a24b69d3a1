import { ArgumentMetadata, ValidationError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { AppException } from './errors';

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

const MAX_DEPTH = 20;

/**
 * The fields of a body, query or path holding a string with U+0000. PostgreSQL text cannot store that
 * character and refuses it in a query parameter, so such a value would fail deep in a repository (a 500)
 * instead of being refused as invalid input.
 */
export function fieldsWithNul(value: unknown, prefix = '', depth = 0): string[] {
  if (typeof value === 'string') return value.includes('\u0000') ? [prefix] : [];
  if (!value || typeof value !== 'object' || depth > MAX_DEPTH) return [];
  return Object.entries(value).flatMap(([key, v]) => fieldsWithNul(v, prefix ? `${prefix}.${key}` : key, depth + 1));
}

const invalid = (details?: FieldError[]) => new AppException('VALIDATION_FAILED', 'The request is invalid', details);

/**
 * The global ValidationPipe, made total: whatever a client sends ends as VALIDATION_FAILED or a value, never
 * as an unexpected error. Two gaps of the stock pipe are closed: strings carrying U+0000 (see fieldsWithNul)
 * and validators that throw on hostile input instead of failing it (validator's isEmail runs encodeURI,
 * which throws a URIError on a lone surrogate such as "\ud800").
 */
class TotalValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const fields = fieldsWithNul(value);
      if (fields.length) {
        throw invalid(fields.map((field) => ({ field: field || metadata.type, errors: ['must not contain U+0000'] })));
      }
    }
    return super.transform(value, metadata);
  }

  protected override async validate(
    object: object,
    validatorOptions?: ValidationPipeOptions,
  ): Promise<ValidationError[]> {
    try {
      return await super.validate(object, validatorOptions);
    } catch {
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
