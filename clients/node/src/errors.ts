/**
 * Typed errors. Every failure the library reports is a {@link HoldfastError} whose `code` is the
 * protocol's error code (`TIMEOUT`, `CONFLICT`, …) and whose `message` is one line naming the real
 * cause: the server's own message where the server answered, or what went wrong on the way
 * ("cannot reach any member (http://…: connection refused)") where it did not.
 *
 * The one exception: a wait given up through an `AbortSignal` rejects with the signal's reason
 * (an `AbortError` by default), as every abortable Node API does.
 */

/** The protocol's error codes. */
export type ErrorCode =
  | "TIMEOUT"
  | "INVALID_ARGUMENT"
  | "LOCK_LOST"
  | "NOT_OWNER"
  | "CONFLICT"
  | "DEADLOCK"
  | "SESSION_EXPIRED"
  | "UNAVAILABLE"
  | "PERMISSION_DENIED"
  | "QUOTA_EXCEEDED"
  | "NOT_FOUND";

/** Base class of every error the library raises. */
export class HoldfastError extends Error {
  /** The protocol's error code. */
  readonly code: ErrorCode;
  /** The HTTP status the server answered with, or 0 where no server answered. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, status = 0) {
    super(oneLine(message));
    this.code = code;
    this.status = status;
    this.name = new.target.name;
  }
}

/**
 * The base of the error class of one protocol `code`: its constructor takes the message and the
 * HTTP status (`defaultStatus` where not given).
 */
function errorClass(code: ErrorCode, defaultStatus: number): new (message: string, status?: number) => HoldfastError {
  return class extends HoldfastError {
    constructor(message: string, status = defaultStatus) {
      super(code, message, status);
    }
  };
}

/** `409 TIMEOUT`: the lock was not free (no wait), or the wait ran out. Nothing is held or queued. */
export class LockTimeoutError extends errorClass("TIMEOUT", 409) {}

/** `400 INVALID_ARGUMENT`, or an argument the library refused before sending. */
export class InvalidArgumentError extends errorClass("INVALID_ARGUMENT", 400) {}

/**
 * `409 LOCK_LOST`: the lock was granted and lost again (lease timeout, revoke) before the answer
 * arrived. Nothing is held. `token` is the token of the grant that was lost, where known.
 */
export class LockLostError extends errorClass("LOCK_LOST", 409) {
  constructor(message: string, status = 409, readonly token?: number) {
    super(message, status);
  }
}

/** `409 NOT_OWNER`: the session does not hold that grant (it was lost or released). */
export class NotOwnerError extends errorClass("NOT_OWNER", 409) {}

/**
 * `409 CONFLICT`: a register's compare-and-set found another version (`currentVersion`; 0: absent).
 * A refused group join also names `holder`: the session holding the member name (null: none).
 */
export class ConflictError extends errorClass("CONFLICT", 409) {
  constructor(
    message: string,
    status = 409,
    readonly currentVersion?: number,
    readonly holder?: string | null,
  ) {
    super(message, status);
  }
}

/** `409 DEADLOCK`: the wait would close a cycle; `cycle` names the locks where the server said. */
export class DeadlockError extends errorClass("DEADLOCK", 409) {
  constructor(message: string, status = 409, readonly cycle?: string[]) {
    super(message, status);
  }
}

/** `410 SESSION_EXPIRED`, or the session expired locally (no heartbeat acknowledged for a TTL). */
export class SessionExpiredError extends errorClass("SESSION_EXPIRED", 410) {}

/** No member answered in time (or the client is closed); the message names the last cause. */
export class UnavailableError extends errorClass("UNAVAILABLE", 0) {}

/** `401`/`403 PERMISSION_DENIED`. */
export class PermissionDeniedError extends errorClass("PERMISSION_DENIED", 403) {}

/** `429 QUOTA_EXCEEDED`. */
export class QuotaExceededError extends errorClass("QUOTA_EXCEEDED", 429) {}

/** `404 NOT_FOUND`. */
export class NotFoundError extends errorClass("NOT_FOUND", 404) {}

/** The `error` object of an error answer: `{"error":{"code","message",…}}`. */
export interface ErrorBody {
  code?: string;
  message?: string;
  leader?: string | null;
  currentVersion?: number;
  token?: number;
  cycle?: string[];
  [extra: string]: unknown;
}

/** Whether an answer with this status and code is a lost answer: send the same request again. */
export function isRetryable(status: number, code: string | undefined): boolean {
  if (status === 503) return true; // NOT_LEADER, UNAVAILABLE
  if (status === 504) return true; // the cluster did not answer in time: outcome unknown
  return false;
}

/**
 * The typed error for a final (not retryable) error answer. Unknown codes are mapped by status,
 * so a newer server's code still lands in the right family.
 */
export function errorFromAnswer(status: number, body: ErrorBody | undefined): HoldfastError {
  const code = body?.code ?? "";
  const message = body?.message || `HTTP ${status}${code ? " " + code : ""}`;
  switch (code) {
    case "TIMEOUT":
      return status === 504 ? new UnavailableError(message, status) : new LockTimeoutError(message, status);
    case "INVALID_ARGUMENT":
      return new InvalidArgumentError(message, status);
    case "LOCK_LOST":
      return new LockLostError(message, status, numberOrUndefined(body?.token));
    case "NOT_OWNER":
      return new NotOwnerError(message, status);
    case "CONFLICT":
      return new ConflictError(message, status, numberOrUndefined(body?.currentVersion));
    case "DEADLOCK":
      return new DeadlockError(message, status, Array.isArray(body?.cycle) ? body!.cycle.map(String) : undefined);
    case "SESSION_EXPIRED":
      return new SessionExpiredError(message, status);
    case "UNAVAILABLE":
    case "NOT_LEADER":
      return new UnavailableError(message, status);
    case "PERMISSION_DENIED":
      return new PermissionDeniedError(message, status);
    case "QUOTA_EXCEEDED":
      return new QuotaExceededError(message, status);
    case "NOT_FOUND":
      return new NotFoundError(message, status);
  }
  if (status === 400 || status === 413 || status === 422) return new InvalidArgumentError(message, status);
  if (status === 401 || status === 403) return new PermissionDeniedError(message, status);
  if (status === 404) return new NotFoundError(message, status);
  if (status === 410) return new SessionExpiredError(message, status);
  if (status === 429) return new QuotaExceededError(message, status);
  return new UnavailableError(message, status);
}

function numberOrUndefined(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Collapses a message to one line. */
export function oneLine(message: string): string {
  return String(message).replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/**
 * A short description of why a fetch failed: "connection refused", "no answer within 5000 ms", …
 * Node's fetch wraps the socket error in `cause`.
 */
export function describeNetworkError(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: unknown } | undefined;
  if (!e) return "unknown error";
  const cause = e.cause as { code?: string; message?: string; name?: string } | undefined;
  const code = cause?.code ?? e.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
      return "connection reset";
    case "EPIPE":
      return "connection broken";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "unknown host";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connect timed out";
    case "UND_ERR_SOCKET":
    case "UND_ERR_CLOSED":
      return "connection closed before the answer";
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return "no answer in time";
  }
  if (cause?.message) return oneLine(cause.message);
  return oneLine(e.message ?? String(err));
}
