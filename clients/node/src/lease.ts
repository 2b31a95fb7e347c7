/**
 * Leases: what an acquire returns.
 *
 * A {@link Lease} is one grant of one lock: its name, its fencing token, whether it is still valid,
 * `release()`, and a loss callback. A grant taken with a lease timeout is renewed in the background
 * every `leaseMs / 3` while it is held.
 *
 * What `valid` guarantees: once it is false it stays false, and it turns false as soon as the
 * library learns of a loss (a `lost` event, a gap, a renew answered `NOT_OWNER`, no renew
 * acknowledged within `leaseMs`, the session's expiry). What it cannot guarantee: that the lock is
 * still held at the moment you read `true` (a revoke may be on its way). Protect what the lock
 * guards with the fencing token (registers' `fence`, or {@link Client.isCurrent}).
 */
import { sleep, unref } from "./backoff";
import type { Clock } from "./clock";
import { NotOwnerError, SessionExpiredError } from "./errors";
import type { LossReason } from "./events";
import type { Answer } from "./transport";
import type { LockMode } from "./validate";

(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for("Symbol.asyncDispose");

/** Called once when a lease is lost, with the reason and the lease. */
export type LossCallback = (reason: LossReason, lease: Lease) => void;

/** What a lease needs from its session (internal). */
export interface LeaseHost {
  readonly requestTimeoutMs: number;
  /** The client's one clock: the lease's renewals and its local timeout. */
  readonly clock: Clock;
  /** Sends a numbered write of the session; retried with the same number until final. */
  write(path: string, fields: Record<string, unknown>, timing?: { attemptTimeoutMs: number; deadline: number }): Promise<Answer>;
  /** The lease is no longer held: stop matching events against it. */
  forget(lease: Lease): void;
  /** The session expired (a renew answered 410). */
  expire(message: string): void;
  log(message: string): void;
}

type State = "held" | "releasing" | "released" | "lost";

export class Lease {
  /** When the grant's answer arrived (the client's clock: `Date.now()` unless a test gave another). */
  readonly grantedAt: number;

  private state: State = "held";
  private doomed = false;
  private reason: LossReason | undefined;
  private readonly callbacks: LossCallback[] = [];
  private releasing: Promise<void> | undefined;
  private renewal: AbortController | undefined;
  /** When the last acknowledged renew (or the grant's acquire) was sent. */
  private lastRenewAckSentAt: number;

  /** @internal Made by the client; use {@link Client.acquire}. */
  constructor(
    private readonly host: LeaseHost,
    /** The lock's name. */
    readonly name: string,
    /** The fencing token of this grant: always increasing per lock; far below 2^53. */
    readonly fencingToken: number,
    /** How the lock is held. */
    readonly mode: LockMode,
    /** Permits held (1 unless mode is `permits`). */
    readonly permits: number,
    /** The lease timeout the grant was taken with (0: none). */
    readonly leaseMs: number,
  ) {
    this.grantedAt = host.clock.now();
    this.lastRenewAckSentAt = this.grantedAt;
  }

  /** True while the grant is held as far as the library knows (see the file comment). */
  get valid(): boolean {
    return this.state === "held" && !this.doomed;
  }

  /** Why the lease was lost, or undefined while it was not. */
  get lostReason(): LossReason | undefined {
    return this.reason;
  }

  /**
   * Registers a callback for the loss of this lease: called once, with the reason. Registered
   * after the loss, it is called at once (asynchronously). Not called for a release or close.
   */
  onLost(callback: LossCallback): this {
    if (this.state === "lost") {
      const reason = this.reason!;
      queueMicrotask(() => callSafely(callback, reason, this, this.host));
    } else {
      this.callbacks.push(callback);
    }
    return this;
  }

  /**
   * Releases the grant. Idempotent: later calls return the first call's promise; releasing a lease
   * that was lost, or whose session ended, does nothing. A release answered `NOT_OWNER` (the grant
   * was lost meanwhile) is not an error. If no member answered, it rejects with
   * {@link UnavailableError}, the lease counts as held again, and release() may be called again.
   */
  release(): Promise<void> {
    if (this.releasing) return this.releasing;
    if (this.state !== "held") return Promise.resolve();
    this.state = "releasing";
    this.stopRenewal();
    this.releasing = (async () => {
      try {
        await this.host.write("/api/v1/release", { name: this.name, token: this.fencingToken });
      } catch (e) {
        if (!(e instanceof NotOwnerError || e instanceof SessionExpiredError)) {
          // No answer, or a refusal: the grant may still be held. Unless the lease ended meanwhile
          // (lost, or the client closed), it counts as held again and release() may be retried.
          if (this.state !== "releasing") return;
          this.state = "held";
          this.releasing = undefined;
          if (this.leaseMs > 0) this.startRenewal();
          throw e;
        }
        // NOT_OWNER: lost before the release; nothing is held, which is what was asked.
      }
      if (this.state === "releasing") this.finish("released");
    })();
    return this.releasing;
  }

  /** `await using lease = await client.acquire(…)` releases it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  /** @internal Marks the lease lost and calls the callbacks once. Returns false if it was not held. */
  markLost(reason: LossReason): boolean {
    if (this.state === "lost" || this.state === "released") return false;
    this.reason = reason;
    this.finish("lost");
    const callbacks = this.callbacks.splice(0);
    for (const cb of callbacks) callSafely(cb, reason, this, this.host);
    return true;
  }

  /** @internal The client closed: the lease ends without a loss report. */
  markReleased(): void {
    if (this.state === "held" || this.state === "releasing") this.finish("released");
    this.callbacks.length = 0;
  }

  /** @internal Renews every leaseMs/3 while held; a renew not acknowledged within leaseMs is a loss. */
  startRenewal(): void {
    if (this.leaseMs <= 0 || this.renewal) return;
    const controller = new AbortController();
    this.renewal = controller;
    void this.renewLoop(controller.signal);
  }

  private stopRenewal(): void {
    this.renewal?.abort();
    this.renewal = undefined;
  }

  private async renewLoop(signal: AbortSignal): Promise<void> {
    const interval = Math.max(1, Math.floor(this.leaseMs / 3));
    const clock = this.host.clock;
    let nextAt = Math.max(clock.now(), this.lastRenewAckSentAt + interval);
    while (!signal.aborted && this.state === "held") {
      try {
        await sleep(clock, nextAt - clock.now(), signal);
      } catch {
        return;
      }
      const started = clock.now();
      nextAt = started + interval;
      try {
        const answer = await this.host.write(
          "/api/v1/renew",
          { name: this.name, token: this.fencingToken },
          {
            attemptTimeoutMs: Math.min(this.host.requestTimeoutMs, Math.max(interval, 1)),
            deadline: this.lastRenewAckSentAt + this.leaseMs,
          },
        );
        this.lastRenewAckSentAt = Math.max(this.lastRenewAckSentAt, answer.sentAt);
      } catch (e) {
        if (signal.aborted || this.state !== "held") return;
        if (e instanceof NotOwnerError) {
          // Lost. The event stream usually says why within milliseconds; give it a moment.
          this.doomed = true;
          this.host.log(`renew of ${this.name} (token ${this.fencingToken}): ${e.message}`);
          unref(clock.setTimeout(() => this.markLost("unknown"), 300));
          return;
        }
        if (e instanceof SessionExpiredError) {
          this.host.expire(e.message);
          return;
        }
        if (clock.now() >= this.lastRenewAckSentAt + this.leaseMs) {
          this.host.log(`renew of ${this.name}: ${(e as Error).message}; lease timed out locally`);
          this.markLost("leaseTimeout");
          return;
        }
        // Some other final answer: try again at the next interval.
        this.host.log(`renew of ${this.name}: ${(e as Error).message}`);
      }
    }
  }

  private finish(state: "released" | "lost"): void {
    this.state = state;
    this.stopRenewal();
    this.host.forget(this);
  }
}

/**
 * The grants of one {@link Client.acquireAll}: one {@link Lease} per name (in byte order of the
 * names), all taken at once. Valid while every one of them is; `release()` releases them all.
 */
export class LeaseSet {
  /** One lease per name, in the server's (byte) order. */
  readonly leases: readonly Lease[];
  private lossReported = false;

  /** @internal */
  constructor(leases: Lease[]) {
    this.leases = leases;
  }

  /** Name to fencing token. */
  get tokens(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.leases) out[l.name] = l.fencingToken;
    return out;
  }

  /** True while every lease of the set is valid. */
  get valid(): boolean {
    return this.leases.every((l) => l.valid);
  }

  /** The lease of one name. */
  get(name: string): Lease | undefined {
    return this.leases.find((l) => l.name === name);
  }

  /** Called once, at the first loss among the set's leases, with that lease. */
  onLost(callback: LossCallback): this {
    for (const l of this.leases) {
      l.onLost((reason, lease) => {
        if (this.lossReported) return;
        this.lossReported = true;
        callback(reason, lease);
      });
    }
    return this;
  }

  /** Releases every lease of the set (see {@link Lease.release}); rejects with the first failure. */
  async release(): Promise<void> {
    const results = await Promise.allSettled(this.leases.map((l) => l.release()));
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

function callSafely(cb: LossCallback, reason: LossReason, lease: Lease, host: LeaseHost): void {
  try {
    cb(reason, lease);
  } catch (e) {
    host.log(`a loss callback of ${lease.name} threw: ${(e as Error)?.message ?? String(e)}`);
  }
}
