// OCTO's error shape, `{ error, errorMessage, <offending field> }`. Domain code returns these as values
// (like the rest of the house returns refusals); the route layer sends them with their status.
import type { Refusal } from '@cruise/shared';

export type OctoErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_PRODUCT_ID'
  | 'INVALID_OPTION_ID'
  | 'INVALID_UNIT_ID'
  | 'INVALID_AVAILABILITY_ID'
  | 'INVALID_BOOKING_UUID'
  | 'UNPROCESSABLE_ENTITY'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INTERNAL_SERVER_ERROR';

const FIELD: Partial<Record<OctoErrorCode, string>> = {
  INVALID_PRODUCT_ID: 'productId',
  INVALID_OPTION_ID: 'optionId',
  INVALID_UNIT_ID: 'unitId',
  INVALID_AVAILABILITY_ID: 'availabilityId',
  INVALID_BOOKING_UUID: 'uuid',
};

const STATUS: Record<OctoErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_PRODUCT_ID: 400,
  INVALID_OPTION_ID: 400,
  INVALID_UNIT_ID: 400,
  INVALID_AVAILABILITY_ID: 400,
  INVALID_BOOKING_UUID: 400,
  UNPROCESSABLE_ENTITY: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  INTERNAL_SERVER_ERROR: 500,
};

export class OctoError extends Error {
  readonly code: OctoErrorCode;
  readonly status: number;
  /** The offending value, echoed under the field OCTO names for the code (productId, uuid, …). */
  readonly value: string | undefined;
  constructor(code: OctoErrorCode, message: string, value?: string, status?: number) {
    super(message);
    this.code = code;
    this.status = status ?? STATUS[code];
    this.value = value;
  }

  toBody(): Record<string, string> {
    const field = FIELD[this.code];
    return {
      error: this.code,
      errorMessage: this.message,
      ...(field ? { [field]: this.value ?? '' } : {}),
    };
  }
}

export const badRequest = (message: string) => new OctoError('BAD_REQUEST', message);

/**
 * A refusal from inventory or issuance, in OCTO's words. SERVICE_UNAVAILABLE stays a 5xx (503, OCTO's
 * INTERNAL_SERVER_ERROR code) so a reseller retries; business refusals are 400 UNPROCESSABLE_ENTITY.
 */
export function fromRefusal(refusal: Refusal, uuid?: string): OctoError {
  switch (refusal.code) {
    case 'NOT_FOUND':
      return new OctoError('INVALID_BOOKING_UUID', 'The uuid was not found', uuid);
    case 'SERVICE_UNAVAILABLE':
      return new OctoError(
        'INTERNAL_SERVER_ERROR',
        'A dependency is unavailable; retry shortly',
        undefined,
        503,
      );
    case 'INTERNAL_ERROR':
      return new OctoError('INTERNAL_SERVER_ERROR', 'There was an un-recoverable error, please try again');
    case 'VALIDATION_FAILED':
      return badRequest(refusal.detail);
    default:
      return new OctoError('UNPROCESSABLE_ENTITY', refusal.detail);
  }
}
