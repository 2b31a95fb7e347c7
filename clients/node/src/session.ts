/**
 * A session (protocol.md, "Sessions"): opened at the client's home member, kept alive by
 * heartbeats, the owner of the request-id ledger, the leases and the event stream.
 *
 * Guaranteed:
 * - heartbeats (`POST …/keepalive`) go to the home every TTL/3 (a follower relays them to the
 *   leader); one that fails is re-sent at other members until a TTL has passed since the
 *   sending of the last acknowledged one;
 * - the session counts as expired locally as soon as no heartbeat was acknowledged for a whole
 *   TTL, counted from the sending of the last acknowledged one, or a member answers
 *   `410 SESSION_EXPIRED`, or the event stream says so: every lease is lost (reason
 *   `sessionExpired`) and later calls fail with {@link SessionExpiredError};
 * - every numbered write carries `ackedBelow` = the lowest outstanding number, and is re-sent with
 *   its number until its final answer.
 */
import { formatDuration } from "./durations";
import { anySignal, sleep, unref } from "./backoff";
import type { Clock } from "./clock";
import { EventStream, HeldGrant, Loss } from "./events";
import { HoldfastError, NotFoundError, SessionExpiredError, UnavailableError } from "./errors";
import { RequestLedger } from "./ledger";
import { Lease, LeaseHost } from "./lease";
import { Answer, Transport } from "./transport";

export interface SessionOptions {
  ttlMs: number;
  clientName: string;
  requestTimeoutMs: number;
  lockDelayMs?: number;
  log: (message: string) => void;
}

/** Timing of one write: the timeout of each try, and when to stop trying. */
export interface Timing {
  attemptTimeoutMs: number;
  deadline: number;
  signal?: AbortSignal;
}

const RECENT_LOSSES = 1024;

/**
 * A fresh session id, in the one form every Holdfast client and node makes (SessionIds.newId): 22
 * characters of base64url, 16 random bytes whose first byte's top bit is clear (127 random bits),
 * so it begins with one of A-Za-f, never with '-'.
 */
export function newSessionId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  bytes[0] &= 0x7f;
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export class Session implements LeaseHost {
  readonly id: string;
  readonly ttlMs: number;
  readonly requestTimeoutMs: number;
  readonly ledger = new RequestLedger();
  readonly log: (message: string) => void;
  /** The client's one clock (the transport's): deadlines, heartbeats, the watchdog, renewals. */
  readonly clock: Clock;

  private readonly leases = new Set<Lease>();
  /** Losses reported for grants not (yet) known here: an answer may arrive after its loss. */
  private readonly recentLosses = new Map<string, Loss>();
  private readonly background = new AbortController();
  private readonly expiry = new AbortController();
  private expiredError: SessionExpiredError | undefined;
  private closing: Promise<void> | undefined;
  private lastAckSentAt: number;
  private watchdog: unknown;
  private readonly expiryListeners: Array<(error: SessionExpiredError) => void> = [];

  private constructor(
    private readonly transport: Transport,
    id: string,
    ttlMs: number,
    openSentAt: number,
    options: SessionOptions,
  ) {
    this.id = id;
    this.ttlMs = ttlMs;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.log = options.log;
    this.clock = transport.clock;
    this.lastAckSentAt = openSentAt;
  }

  /**
   * Opens a session at the home member with an id chosen here, so that an open whose answer was lost
   * is re-sent as is (the server answers an open of an existing id with the same settings 201).
   * Each attempt at one member gets at most half of the time the try has when it begins (and at most
   * the request timeout), so that a member that never answers leaves the try time for another: with
   * the whole try at one member, a renewal's try of one request timeout was used up there and a
   * pause followed.
   */
  static async open(transport: Transport, options: SessionOptions, deadline?: number): Promise<Session> {
    const id = newSessionId();
    const body: Record<string, unknown> = { clientName: options.clientName, ttlMillis: options.ttlMs, sessionId: id };
    if (options.lockDelayMs !== undefined) body.lockDelayMillis = options.lockDelayMs;
    const now = transport.clock.now();
    const end = deadline ?? now + 3 * options.requestTimeoutMs;
    const answer = await transport.call({
      method: "POST",
      path: "/api/v1/sessions",
      body,
      attemptTimeoutMs: Math.min(options.requestTimeoutMs, Math.max(50, (end - now) / 2)),
      deadline: end,
    });
    const sessionId = typeof answer.body?.sessionId === "string" ? answer.body.sessionId : id;
    const ttl = typeof answer.body?.ttlMillis === "number" ? answer.body.ttlMillis : options.ttlMs;
    const session = new Session(transport, sessionId, ttl, answer.sentAt, options);
    session.start();
    return session;
  }

  private start(): void {
    this.armWatchdog();
    void this.heartbeatLoop();
    const stream = new EventStream(
      this.transport,
      this.id,
      {
        heldBefore: (time) => this.heldBefore(time),
        lost: (loss) => this.onLoss(loss),
        expired: (message) => this.expire(message),
        log: this.log,
      },
      this.background.signal,
      this.requestTimeoutMs,
    );
    void stream.run();
  }

  /** Whether the session expired (locally or as the cluster said). */
  get expired(): boolean {
    return this.expiredError !== undefined;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Calls the listener once when the session expires. */
  onExpired(listener: (error: SessionExpiredError) => void): void {
    if (this.expiredError) queueMicrotask(() => listener(this.expiredError!));
    else this.expiryListeners.push(listener);
  }

  /** Throws if the session can no longer be used. */
  checkUsable(): void {
    const ended = this.endedError();
    if (ended) throw ended;
  }

  /** Why the session can no longer be used (expired, or closed), if it cannot. */
  endedError(): HoldfastError | undefined {
    if (this.expiredError) return this.expiredError;
    if (this.closing) return new UnavailableError("holdfast: the client is closed");
    return undefined;
  }

  /** Aborted when the session expires or is closed: what the client's watches stop on. */
  get lifeSignal(): AbortSignal {
    return this.background.signal;
  }

  /** The default timing of a write: 3 tries' worth of the request timeout. */
  defaultTiming(signal?: AbortSignal): Timing {
    return { attemptTimeoutMs: this.requestTimeoutMs, deadline: this.clock.now() + 3 * this.requestTimeoutMs, signal };
  }

  /** Sends a numbered write with a new number (see {@link writeNumbered}). */
  write(path: string, fields: Record<string, unknown>, timing?: Timing): Promise<Answer> {
    this.checkUsable();
    return this.writeNumbered(this.ledger.begin(), path, fields, timing ?? this.defaultTiming());
  }

  /**
   * Sends a write with the number `requestId` (begun by the caller), adding `session`,
   * `requestId` and `ackedBelow`; re-sent as is until its final answer. The number is settled on
   * a final answer (success or error); it stays outstanding when no final answer came (deadline,
   * abort), because the request may still take effect.
   */
  async writeNumbered(requestId: number, path: string, fields: Record<string, unknown>, timing: Timing): Promise<Answer> {
    if (this.expiredError) {
      throw this.expiredError;
    }
    const body = { session: this.id, requestId, ackedBelow: this.ledger.ackedBelow(), ...fields };
    const signals = anySignal([timing.signal, this.expiry.signal]);
    try {
      const answer = await this.transport.call({
        method: "POST",
        path,
        body,
        attemptTimeoutMs: timing.attemptTimeoutMs,
        deadline: timing.deadline,
        signal: signals.signal,
      });
      this.ledger.settle(requestId);
      return answer;
    } catch (e) {
      if (e instanceof HoldfastError && e.status !== 0 && e !== this.expiredError) {
        this.ledger.settle(requestId);
        if (e instanceof SessionExpiredError) this.expire(e.message);
      }
      throw e;
    } finally {
      signals.dispose();
    }
  }

  /** A read at the home member (not numbered), retried until the default deadline. */
  async read(path: string, signal?: AbortSignal): Promise<Answer> {
    this.checkUsable();
    return this.transport.call({
      method: "GET",
      path,
      attemptTimeoutMs: this.requestTimeoutMs,
      deadline: this.clock.now() + 3 * this.requestTimeoutMs,
      signal,
    });
  }

  /** Starts tracking a lease: events are matched against it. A loss reported before it arrived applies at once. */
  adopt(lease: Lease): void {
    const key = lossKey(lease.name, lease.fencingToken);
    const early = this.recentLosses.get(key);
    if (early) {
      this.recentLosses.delete(key);
      lease.markLost(early.reason);
      return;
    }
    if (this.expiredError) {
      lease.markLost("sessionExpired");
      return;
    }
    if (this.closing) {
      lease.markReleased(); // granted while the session was closing: the close releases it
      return;
    }
    this.leases.add(lease);
    lease.startRenewal();
  }

  forget(lease: Lease): void {
    this.leases.delete(lease);
  }

  /** The session expired: every lease lost, background work stopped, calls in flight fail. */
  expire(message: string): void {
    if (this.expiredError || this.closing) return;
    const error = new SessionExpiredError(message);
    this.expiredError = error;
    this.log(`session ${this.id} expired: ${error.message}`);
    this.stopBackground();
    this.expiry.abort(error);
    for (const lease of [...this.leases]) lease.markLost("sessionExpired");
    this.leases.clear();
    for (const l of this.expiryListeners.splice(0)) {
      try {
        l(error);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /**
   * Stops the heartbeats and the event stream, closes the session at the cluster
   * (`DELETE /api/v1/sessions/{id}`), and ends every lease without a loss report. Idempotent; a
   * session that is already gone at the cluster is not an error.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      this.stopBackground();
      for (const lease of [...this.leases]) lease.markReleased();
      this.leases.clear();
      if (this.expiredError) return;
      const requestId = this.ledger.begin();
      try {
        await this.transport.call({
          method: "DELETE",
          path: `/api/v1/sessions/${encodeURIComponent(this.id)}`,
          body: { requestId, ackedBelow: this.ledger.ackedBelow() },
          attemptTimeoutMs: this.requestTimeoutMs,
          deadline: this.clock.now() + 3 * this.requestTimeoutMs,
        });
        this.ledger.settle(requestId);
      } catch (e) {
        if (e instanceof SessionExpiredError || e instanceof NotFoundError) return; // already gone
        throw e;
      }
    })();
    return this.closing;
  }

  private stopBackground(): void {
    this.background.abort();
    if (this.watchdog) this.clock.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private armWatchdog(): void {
    if (this.watchdog) this.clock.clearTimeout(this.watchdog);
    const due = this.lastAckSentAt + this.ttlMs - this.clock.now();
    this.watchdog = unref(
      this.clock.setTimeout(() => this.expire(`holdfast: no heartbeat acknowledged for ${formatDuration(this.ttlMs)}`), Math.max(0, due)),
    );
  }

  private async heartbeatLoop(): Promise<void> {
    const interval = Math.max(1, Math.floor(this.ttlMs / 3));
    const signal = this.background.signal;
    let nextAt = this.lastAckSentAt + interval;
    while (!signal.aborted) {
      try {
        await sleep(this.clock, nextAt - this.clock.now(), signal);
      } catch {
        return;
      }
      nextAt = this.clock.now() + interval;
      try {
        const answer = await this.transport.call({
          method: "POST",
          path: `/api/v1/sessions/${encodeURIComponent(this.id)}/keepalive`,
          body: {},
          attemptTimeoutMs: Math.min(this.requestTimeoutMs, interval),
          deadline: this.lastAckSentAt + this.ttlMs,
          signal,
        });
        if (answer.sentAt > this.lastAckSentAt) {
          this.lastAckSentAt = answer.sentAt;
          if (!signal.aborted) this.armWatchdog();
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof SessionExpiredError || e instanceof NotFoundError) {
          this.expire(e.message);
          return;
        }
        if (this.clock.now() >= this.lastAckSentAt + this.ttlMs) {
          this.expire(`holdfast: no heartbeat acknowledged for ${formatDuration(this.ttlMs)} (${(e as Error).message})`);
          return;
        }
        this.log(`heartbeat: ${(e as Error).message}`);
      }
    }
  }

  private heldBefore(time: number): HeldGrant[] {
    const out: HeldGrant[] = [];
    for (const l of this.leases) if (l.grantedAt < time) out.push({ name: l.name, token: l.fencingToken });
    return out;
  }

  private onLoss(loss: Loss): void {
    let matched = false;
    for (const lease of [...this.leases]) {
      if (lease.name === loss.name && lease.fencingToken === loss.token) {
        matched = lease.markLost(loss.reason) || matched;
      }
    }
    if (!matched) {
      this.recentLosses.set(lossKey(loss.name, loss.token), loss);
      if (this.recentLosses.size > RECENT_LOSSES) {
        const oldest = this.recentLosses.keys().next().value as string;
        this.recentLosses.delete(oldest);
      }
    }
  }
}

function lossKey(name: string, token: number): string {
  return `${token}\u0000${name}`;
}
