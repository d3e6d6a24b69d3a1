import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS } from './error-codes';

/** The one error shape of API.md. */
export class ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({
    example: 'VALIDATION_FAILED',
    description:
      "Stable code to branch on (API.md). SERVICE_UNAVAILABLE is only the readiness check's 503 (GET /health/ready while the database does not answer); no other route answers it.",
    enum: Object.keys(ERROR_STATUS),
  })
  code!: string;

  @ApiProperty({ example: 'The request is invalid' })
  message!: string;

  @ApiProperty({ example: '5f0c6f0e-3f0d-4d5e-9a43-4c1f1b0b2f7e' })
  requestId!: string;

  @ApiPropertyOptional({
    description:
      'A request that fails its schema (VALIDATION_FAILED): one entry per invalid field, never echoing values. ' +
      "Other errors: an object with what helps, e.g. Kakao's error code ({kakaoCode: -101}), the unknown tags of UNKNOWN_TERM, or the readiness checks of a 503.",
    oneOf: [
      {
        type: 'array',
        items: {
          type: 'object',
          required: ['field', 'errors'],
          properties: {
            field: { type: 'string', description: 'Dotted path of the field', example: 'email' },
            errors: { type: 'array', items: { type: 'string' }, example: ['email must be an email'] },
          },
        },
      },
      { type: 'object', additionalProperties: true, example: { kakaoCode: -101 } },
    ],
    example: [{ field: 'email', errors: ['email must be an email'] }],
  })
  details?: unknown;
}
