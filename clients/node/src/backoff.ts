/**
 * Backoff between tries at other members, and timer helpers that never keep the process alive.
 */
import type { Clock } from "./clock";

/**
 * Exponential backoff: 50 ms doubling to 1 s, each delay drawn between half and all of it ("equal
 * jitter"), as the Java, Python and Go clients draw theirs.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 50,
    private readonly maxMs = 1000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay, in milliseconds; grows with each call until {@link reset}. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    if (base < this.maxMs) this.attempt++;
    // Jitter: uniformly in [base/2, base], so never above maxMs.
    return Math.round(base / 2 + (this.random() * base) / 2);
  }

  /** Back to the first delay (after a success). */
  reset(): void {
    this.attempt = 0;
  }
}

/** How long one call goes round the members while they answer `NOT_LEADER`, in milliseconds. */
export const LEADER_SEARCH_MS = 3000;

/**
 * The pauses between one call's rounds of the members while they answer `NOT_LEADER` without
 * naming a leader: a leader is being elected, and the call should reach it within about 100 ms of
 * its election. 20 ms doubling to 100 ms, each drawn between half and all of it, for at most
 * `lengthMs` from the end of the first such round; after that, none (the ordinary {@link Backoff}
 * applies).
 */
export class LeaderSearch {
  private nominal: number;
  private started: number | undefined;
  private over = false;

  constructor(
    private readonly initialMs = 20,
    private readonly maxMs = 100,
    private readonly lengthMs = LEADER_SEARCH_MS,
    private readonly random: () => number = Math.random,
  ) {
    this.nominal = initialMs;
  }

  /**
   * The pause before the next round, in milliseconds, after a round that ended at `now` (the
   * client's clock) in which a member answered `NOT_LEADER`; undefined once the search would
   * outlast its length.
   */
  next(now: number): number | undefined {
    if (this.over) return undefined;
    this.started ??= now;
    const pause = Math.round(this.nominal / 2 + (this.random() * this.nominal) / 2);
    this.nominal = Math.min(this.maxMs, this.nominal * 2);
    if (now + pause - this.started > this.lengthMs) {
      this.over = true;
      return undefined;
    }
    return pause;
  }
}

/** Lets a Node timer not hold the process open; harmless elsewhere. */
export function unref<T>(timer: T): T {
  const t = timer as unknown as { unref?: () => void };
  if (t && typeof t.unref === "function") t.unref();
  return timer;
}

/**
 * Resolves after `ms` of `clock`, or rejects with the signal's reason as soon as the signal aborts
 * (and then clears its timer, so that an aborted sleep does not keep the process alive).
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A signal that aborts when any of the given ones does, plus a cleanup that detaches the listeners
 * (so that a long-lived signal does not collect one listener per request).
 */
export function anySignal(signals: Array<AbortSignal | undefined>): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const cleanups: Array<() => void> = [];
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    const onAbort = () => controller.abort(s.reason);
    s.addEventListener("abort", onAbort, { once: true });
    cleanups.push(() => s.removeEventListener("abort", onAbort));
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const c of cleanups) c();
      cleanups.length = 0;
    },
  };
}
