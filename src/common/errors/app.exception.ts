import { ERROR_STATUS, ErrorCode } from './error-codes';

/**
 * The base of every module's exception: a code from API.md, a message safe to show to the caller and
 * optional details. The HTTP status comes from the code (`ERROR_STATUS`) unless a module has a reason to
 * choose another one of the same family (KAKAO_UNAVAILABLE as 502, 503 or 504).
 */
export class AppException extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    status?: number,
  ) {
    super(message);
    this.name = new.target.name;
    this.status = status ?? ERROR_STATUS[code];
  }
}
