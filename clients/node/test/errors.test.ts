import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  ConflictError,
  DeadlockError,
  HoldfastError,
  InvalidArgumentError,
  LockLostError,
  LockTimeoutError,
  NotFoundError,
  NotOwnerError,
  PermissionDeniedError,
  QuotaExceededError,
  SessionExpiredError,
  UnavailableError,
  describeNetworkError,
  errorFromAnswer,
  isRetryable,
} from "../src/errors";

test("each protocol code maps to its typed error, keeping the server's message", () => {
  const cases: Array<[number, string, Function]> = [
    [409, "TIMEOUT", LockTimeoutError],
    [400, "INVALID_ARGUMENT", InvalidArgumentError],
    [409, "LOCK_LOST", LockLostError],
    [409, "NOT_OWNER", NotOwnerError],
    [409, "CONFLICT", ConflictError],
    [409, "DEADLOCK", DeadlockError],
    [410, "SESSION_EXPIRED", SessionExpiredError],
    [503, "UNAVAILABLE", UnavailableError],
    [403, "PERMISSION_DENIED", PermissionDeniedError],
    [429, "QUOTA_EXCEEDED", QuotaExceededError],
    [404, "NOT_FOUND", NotFoundError],
  ];
  for (const [status, code, type] of cases) {
    const e = errorFromAnswer(status, { code, message: `the ${code} message` });
    assert.ok(e instanceof type, `${code} -> ${type.name}`);
    assert.ok(e instanceof HoldfastError);
    assert.ok(e instanceof Error);
    assert.equal(e.code, code);
    assert.equal(e.status, status);
    assert.equal(e.message, `the ${code} message`);
    assert.equal(e.name, type.name);
  }
});

test("CONFLICT carries currentVersion, LOCK_LOST its token, DEADLOCK its cycle", () => {
  const c = errorFromAnswer(409, { code: "CONFLICT", message: "m", currentVersion: 5 }) as ConflictError;
  assert.equal(c.currentVersion, 5);
  const l = errorFromAnswer(409, { code: "LOCK_LOST", message: "m", token: 42 }) as LockLostError;
  assert.equal(l.token, 42);
  const d = errorFromAnswer(409, { code: "DEADLOCK", message: "m", cycle: ["a", "b"] }) as DeadlockError;
  assert.deepEqual(d.cycle, ["a", "b"]);
});

test("504 TIMEOUT is not a lock timeout; unknown codes map by status", () => {
  assert.ok(errorFromAnswer(504, { code: "TIMEOUT", message: "cluster slow" }) instanceof UnavailableError);
  assert.ok(errorFromAnswer(401, { code: "UNAUTHENTICATED", message: "m" }) instanceof PermissionDeniedError);
  assert.ok(errorFromAnswer(413, undefined) instanceof InvalidArgumentError);
  assert.ok(errorFromAnswer(500, undefined) instanceof UnavailableError);
  assert.equal(errorFromAnswer(500, undefined).message, "HTTP 500");
});

test("only 503 and 504 are lost answers", () => {
  assert.ok(isRetryable(503, "NOT_LEADER"));
  assert.ok(isRetryable(503, "UNAVAILABLE"));
  assert.ok(isRetryable(504, "TIMEOUT"));
  assert.ok(!isRetryable(409, "TIMEOUT"));
  assert.ok(!isRetryable(400, "INVALID_ARGUMENT"));
  assert.ok(!isRetryable(410, "SESSION_EXPIRED"));
});

test("messages are one line", () => {
  const e = new HoldfastError("UNAVAILABLE", "first\n  second\r\nthird");
  assert.equal(e.message, "first second third");
});

test("network failures are described in a few words", () => {
  const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
  assert.equal(describeNetworkError(refused), "connection refused");
  const reset = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
  assert.equal(describeNetworkError(reset), "connection reset");
  const other = Object.assign(new TypeError("fetch failed"), { cause: { message: "bad\nthing" } });
  assert.equal(describeNetworkError(other), "bad thing");
});
