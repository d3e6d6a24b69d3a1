import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS } from './error-codes';

/** The one error shape of API.md. */
export class ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({
    example: 'VALIDATION_FAILED',
    description: 'Stable code to branch on (API.md)',
    enum: Object.keys(ERROR_STATUS),
  })
  code!: string;

  @ApiProperty({ example: 'The request is invalid' })
  message!: string;

  @ApiProperty({ example: '5f0c6f0e-3f0d-4d5e-9a43-4c1f1b0b2f7e' })
  requestId!: string;

  @ApiPropertyOptional({ example: [{ field: 'email', errors: ['email must be an email'] }] })
  details?: unknown;
}
