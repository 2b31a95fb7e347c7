/**
 * Backoff between tries at other members, and timer helpers that never keep the process alive.
 */

/** Exponential backoff: 50 ms doubling to 1 s, each delay with ±50 % jitter ("full" below the cap). */
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
    // Jitter: uniformly in [base/2, base * 1.5), capped at maxMs.
    return Math.min(this.maxMs, Math.round(base / 2 + this.random() * base));
  }

  /** Back to the first delay (after a success). */
  reset(): void {
    this.attempt = 0;
  }
}

/** Lets a Node timer not hold the process open; harmless elsewhere. */
export function unref<T>(timer: T): T {
  const t = timer as unknown as { unref?: () => void };
  if (t && typeof t.unref === "function") t.unref();
  return timer;
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as the signal aborts (and then
 * clears its timer, so that an aborted sleep does not keep the process alive).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
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
