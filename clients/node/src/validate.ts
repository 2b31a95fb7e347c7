/**
 * Argument checks made before anything is sent. They catch what is plainly wrong (an empty name, a
 * negative wait, fewer than one permit); the server stays the authority on the finer rules (name
 * syntax, limits) and answers those with `400 INVALID_ARGUMENT` and its own message.
 */
import { InvalidArgumentError } from "./errors";

/** How a lock is held. */
export type LockMode = "exclusive" | "shared" | "permits";

const MODES: readonly string[] = ["exclusive", "shared", "permits"];

export function checkName(name: unknown, what = "lock name"): string {
  if (typeof name !== "string") throw new InvalidArgumentError(`holdfast: the ${what} must be a string`);
  if (name.length === 0) throw new InvalidArgumentError(`holdfast: the ${what} is empty`);
  return name;
}

/** A non-negative safe integer (milliseconds, versions, owners). */
export function checkNonNegative(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`holdfast: ${what} must be a non-negative integer, not ${String(value)}`);
  }
  return value;
}

/** A positive safe integer (permits, TTLs). */
export function checkPositive(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`holdfast: ${what} must be at least 1, not ${String(value)}`);
  }
  return value;
}

export function checkMode(mode: unknown): LockMode {
  if (typeof mode !== "string" || !MODES.includes(mode)) {
    throw new InvalidArgumentError(`holdfast: mode must be exclusive, shared or permits, not ${String(mode)}`);
  }
  return mode as LockMode;
}

/** `permits` of a semaphore of `maxPermits`: both at least 1, permits not above maxPermits. */
export function checkPermits(permits: unknown, maxPermits: unknown): { permits: number; maxPermits: number } {
  const p = checkPositive(permits, "permits");
  const m = checkPositive(maxPermits, "maxPermits");
  if (p > m) throw new InvalidArgumentError(`holdfast: permits (${p}) exceed maxPermits (${m})`);
  return { permits: p, maxPermits: m };
}

/** Names of an acquire-all: 1 or more, each non-empty, no repeats. */
export function checkNames(names: unknown): string[] {
  if (!Array.isArray(names) || names.length === 0) {
    throw new InvalidArgumentError("holdfast: acquireAll needs at least one lock name");
  }
  const seen = new Set<string>();
  for (const n of names) {
    checkName(n);
    if (seen.has(n)) throw new InvalidArgumentError(`holdfast: lock name ${n} is listed twice`);
    seen.add(n);
  }
  return [...names];
}

/** A register's value: bytes, or a string (sent as its UTF-8 bytes). */
export function toBytes(value: unknown): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new InvalidArgumentError("holdfast: a register value must be a string or a Uint8Array");
}
