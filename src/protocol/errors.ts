// Error codes on the wire, and the one error class both sides throw and catch.
export const ERROR_CODES = [
  "invalid_argument", // arguments failed validation; data.field names the field
  "not_found",
  "already_exists",
  "failed_precondition", // the request is valid but the state forbids it (e.g. a concluded checklist)
  "unauthenticated", // no or bad credential
  "permission_denied", // authenticated, but not allowed
  "unknown_method",
  "bad_frame", // not JSON, or not a frame we understand
  "frame_too_large",
  "protocol_mismatch",
  "rate_limited",
  "unavailable", // the daemon is stopping or a dependency is down
  "timeout",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  data?: Record<string, unknown>;
}

export class FleetError extends Error {
  readonly code: ErrorCode;
  readonly data?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data?: Record<string, unknown>) {
    super(message);
    this.name = "FleetError";
    this.code = code;
    this.data = data;
  }

  toPayload(): ErrorPayload {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }

  static fromPayload(payload: ErrorPayload): FleetError {
    const code = (ERROR_CODES as readonly string[]).includes(payload.code) ? payload.code : "internal";
    return new FleetError(code, payload.message, payload.data);
  }
}

export function isFleetError(err: unknown, code?: ErrorCode): err is FleetError {
  return err instanceof FleetError && (code === undefined || err.code === code);
}
