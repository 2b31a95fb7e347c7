/**
 * The one clock of a client: every deadline, pause and timer of the library reads and waits on
 * it, so that a test can give a client ({@link ClientOptions.clock}) a clock it moves itself.
 *
 * What it is not: the timeout of one HTTP exchange (the fetch's own), which is the network's, in
 * real time, as a socket's timeout is in the Python and Go clients. Everything that decides when
 * to give up or try again is on the clock.
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
