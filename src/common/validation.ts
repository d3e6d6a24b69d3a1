import { ValidationError, ValidationPipe } from '@nestjs/common';
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

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // Values are never echoed back: a rejected field may hold a password or a token.
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new AppException('VALIDATION_FAILED', 'The request is invalid', flattenValidationErrors(errors)),
  });
}
