/**
 * The one clock of a client: every deadline, pause and timer of the library reads and waits on
 * it, so that a test can give a client ({@link ClientOptions.clock}) a clock it moves itself.
 * This file is the only one of the library that reads the system clock or sets a timer of its own
 * (test/sources.test.ts holds the others to that).
 *
 * What it is not: the timeout of one HTTP exchange (the fetch's own, {@link exchangeTimeout}),
 * which is the network's, in real time, as a socket's timeout is in the Python and Go clients.
 * Everything that decides when to give up or try again is on the clock.
 */

/** Milliseconds and timers: `Date.now()` and the global `setTimeout` unless a test gives its own. */
export interface Clock {
  /** Milliseconds; only differences between two readings mean anything. */
  now(): number;
  /** Calls `fn` once `ms` of this clock have passed; the result is what {@link clearTimeout} takes. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer of {@link setTimeout} (one that fired already or was cleared: nothing). */
  clearTimeout(timer: unknown): void;
}

/** The clock of a client not given one: `Date.now()` and the global timers, as before there was a choice. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/**
 * The timeout of one HTTP exchange: `signal` aborts once `ms` milliseconds of real time have
 * passed, unless `clear()` was called first. The network's time, not a client's clock's.
 */
export function exchangeTimeout(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
