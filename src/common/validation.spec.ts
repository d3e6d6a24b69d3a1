import { IsEmail, IsString, ValidateBy } from 'class-validator';
import { AppException } from './errors';
import { createValidationPipe, MAX_DEPTH, unfitFields } from './validation';

class EmailDto {
  @IsEmail()
  email!: string;
}

class NameDto {
  @IsString()
  name!: string;
}

class ThrowingDto {
  @ValidateBy({
    name: 'throws',
    validator: {
      validate: () => {
        throw new URIError('URI malformed');
      },
    },
  })
  value!: string;
}

/** What the pipe throws for `value`, as `{code, details}`. */
async function refusal(value: unknown, metatype: new () => object, type: 'body' | 'query' = 'body') {
  try {
    await createValidationPipe().transform(value, { type, metatype });
  } catch (err) {
    expect(err).toBeInstanceOf(AppException);
    return { code: (err as AppException).code, details: (err as AppException).details };
  }
  throw new Error('not refused');
}

// Regressions found by the hostile-input fuzz (test/e2e/fuzz.e2e-spec.ts): both were 500s.
describe('the global validation pipe', () => {
  it('refuses a value that makes a validator throw as VALIDATION_FAILED', async () => {
    expect(await refusal({ value: 'x' }, ThrowingDto)).toEqual({ code: 'VALIDATION_FAILED', details: undefined });
  });

  // isEmail threw a URIError on it (encodeURI), and a name holding one failed the sign-up's mail job: PostgreSQL's
  // json cannot hold it.
  it('refuses strings with an unpaired surrogate (half an emoji), and only those', async () => {
    const unpaired = {
      code: 'VALIDATION_FAILED',
      details: [{ field: 'email', errors: ['must not contain an unpaired surrogate'] }],
    };
    expect(await refusal({ email: '\ud800' }, EmailDto)).toEqual(unpaired);
    expect(await refusal({ email: 'a\udfff@b.c' }, EmailDto)).toEqual(unpaired);
    expect(await refusal({ name: '\ude00\ud83d' }, NameDto)).toMatchObject({ details: [{ field: 'name' }] });
    // A whole pair is a character like any other.
    await expect(
      createValidationPipe().transform({ name: '홍길동 \ud83d\ude00' }, { type: 'body', metatype: NameDto }),
    ).resolves.toEqual({ name: '홍길동 😀' });
  });

  it('refuses strings with U+0000 anywhere in a body or query, which PostgreSQL cannot store', async () => {
    expect(await refusal({ name: 'a\u0000b' }, NameDto)).toEqual({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'name', errors: ['must not contain U+0000'] }],
    });
    // Also where no DTO looks (a raw body or query) and deep inside it.
    expect(await refusal({ a: [{ b: '\u0000' }] }, Object, 'query')).toMatchObject({
      details: [{ field: 'a.0.b' }],
    });
    expect(await refusal('\u0000', Object)).toMatchObject({ details: [{ field: 'body' }] });
  });

  it('refuses values nested deeper than MAX_DEPTH, which overflowed class-transformer’s stack', async () => {
    const deep = JSON.parse(`{"name":${'['.repeat(5000)}${']'.repeat(5000)}}`) as unknown;
    expect(await refusal(deep, NameDto)).toEqual({
      code: 'VALIDATION_FAILED',
      details: [
        { field: `name${'.0'.repeat(MAX_DEPTH - 1)}`, errors: [`must not be nested deeper than ${MAX_DEPTH} levels`] },
      ],
    });
  });

  it('still passes ordinary values through', async () => {
    await expect(
      createValidationPipe().transform({ name: '홍길동' }, { type: 'body', metatype: NameDto }),
    ).resolves.toEqual({
      name: '홍길동',
    });
    expect(unfitFields({ a: 'x', b: ['y'], c: null, d: 1, e: { f: { g: [] } } })).toEqual([]);
  });
});
