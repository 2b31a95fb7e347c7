/**
 * A client outlives its sessions (docs/adr/0004-clients-outlive-their-session.md): {@link Sessions}
 * is the client's line of sessions, through which its keys, registers and elections write.
 *
 * Guaranteed:
 * - when the current session is lost (no heartbeat acknowledged for a TTL, `SESSION_EXPIRED`,
 *   ended by an operator), every lease of it is lost (its `onLost` listeners told, reason
 *   `sessionExpired`) and never taken again by the library; the next session (a new id) is opened
 *   with backoff (from 100 ms, doubling, at most 2 s, full jitter) until one opens or the client
 *   is closed;
 * - between the two, a call that needs a session waits for the next within its own timeout, then
 *   rejects with {@link UnavailableError} ("no session: the last was lost (CAUSE); opening a new
 *   one"); what was in flight fails as before; reads and watches need no session and go on;
 * - the session listeners ({@link SessionListener}) are told `lost(oldId, cause)` then
 *   `reestablished(newId)`, in that order; the group members joined (and not left) are joined
 *   again with their last value, by the one join rule (a name another live session holds is not
 *   taken over: the group's `onRejoinFailed` listeners are told);
 * - a member's join under the new session that fails for any other reason (the service
 *   unreachable again, this session lost too, a refusal that may pass) is tried again after
 *   100 ms, doubling up to 1 s (no jitter), until it is written, another session holds the name,
 *   the member left, the client is closed, or a newer session begins its own rejoins. Each member
 *   is tried on its own, so one that cannot be joined holds up neither the others nor the next
 *   session.
 *
 * With `renewSessions: false` the client ends with its session, as before: later calls reject with
 * {@link SessionExpiredError}.
 */
import { sleep } from "./backoff";
import type { Clock } from "./clock";
import { ConflictError, HoldfastError, SessionExpiredError, UnavailableError } from "./errors";
import { Session, SessionOptions, Timing } from "./session";
import { Answer, Transport } from "./transport";

/** Told of the client's sessions ({@link Client.onSession}); either method may be left out. */
export interface SessionListener {
  /** The session `oldId` was lost; `cause` ({@link SessionExpiredError}) names why. */
  lost?(oldId: string, cause: SessionExpiredError): void;
  /** The next session, `newId`, is open. */
  reestablished?(newId: string): void;
}

/** The first pause before trying again to open a session, in ms (clients/vectors/limits.json). */
export const RENEW_FIRST_MS = 100;
/** The longest such pause, in ms: a service that comes back is found within it (ADR 0004). */
export const RENEW_CAP_MS = 2_000;

/**
 * The first pause before a group member's join under a new session is tried again, in ms
 * (clients/vectors/limits.json).
 */
export const REJOIN_FIRST_MS = 100;
/**
 * The longest such pause, in ms: a service that is back is found within it, and a member that
 * cannot be joined for long costs at most one try a second.
 */
export const REJOIN_CAP_MS = 1_000;

/** The pauses between tries to open the next session: 100 ms doubling to 2 s, full jitter. */
export class RenewBackoff {
  private next = RENEW_FIRST_MS;

  constructor(private readonly random: () => number = Math.random) {}

  delayMs(): number {
    const d = this.next;
    this.next = Math.min(RENEW_CAP_MS, this.next * 2);
    return this.random() * d;
  }
}

/**
 * The pauses between tries to join a member again under a new session: 100 ms doubling to 1 s,
 * without jitter, as in every client (clients/vectors/limits.json).
 */
export class RejoinBackoff {
  private next = REJOIN_FIRST_MS;

  delayMs(): number {
    const d = this.next;
    this.next = Math.min(REJOIN_CAP_MS, this.next * 2);
    return d;
  }
}

/** The client's sessions: the current one, and the next once it is lost. @internal */
export class Sessions {
  readonly clock: Clock;
  readonly log: (message: string) => void;
  readonly requestTimeoutMs: number;
  private cur: Session | undefined;
  private lastId: string;
  private readonly ownIds: string[] = [];
  private lostCause = "";
  private finalError: SessionExpiredError | undefined;
  private closing: Promise<void> | undefined;
  private readonly life = new AbortController();
  private changed = deferred();
  private readonly listeners: SessionListener[] = [];
  private readonly expiryListeners: Array<(error: SessionExpiredError) => void> = [];
  private readonly joined = new Map<string, { prefix: string; member: string; value: Uint8Array | string }>();
  private readonly rejoinFailed = new Map<string, Array<(member: string, holder: string | null) => void>>();
  /** Counts the new sessions' rounds of rejoins: a round's tries stop once a newer one begins. */
  private rejoinRound = 0;
  /** Joins a member again under a new session (the group recipe's join). */
  rejoin: (prefix: string, member: string, value: Uint8Array | string) => Promise<unknown> = async () => undefined;

  constructor(
    private readonly transport: Transport,
    private readonly options: SessionOptions,
    first: Session,
    private readonly renew: boolean,
    private readonly random: () => number = Math.random,
  ) {
    this.clock = transport.clock;
    this.log = options.log;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.lastId = first.id;
    this.begin(first);
  }

  /** The current session's id (the lost one's until the next is open). */
  get id(): string {
    return this.lastId;
  }

  /** The current session, if one is open. */
  get current(): Session | undefined {
    return this.cur;
  }

  /** Whether the client ended with its session (opted out of renewing). */
  get expired(): boolean {
    return this.finalError !== undefined;
  }

  /** Whether a lost session is being followed by the next. */
  get renewing(): boolean {
    return this.cur === undefined && !this.closing && !this.finalError;
  }

  /** Whether `id` is one of this client's sessions (the current one, or one it lost). */
  own(id: string | null): boolean {
    return id !== null && this.ownIds.includes(id);
  }

  /** Aborted when the client is closed or ends with its session: what its watches stop on. */
  get lifeSignal(): AbortSignal {
    return this.life.signal;
  }

  addListener(listener: SessionListener): void {
    this.listeners.push(listener);
  }

  onExpired(listener: (error: SessionExpiredError) => void): void {
    if (this.finalError) queueMicrotask(() => listener(this.finalError!));
    else this.expiryListeners.push(listener);
  }

  /** Why the client can no longer be used (ended with its session, or closed), if it cannot. */
  endedError(): HoldfastError | undefined {
    if (this.finalError) return this.finalError;
    if (this.closing) return new UnavailableError("holdfast: the client is closed");
    return undefined;
  }

  checkUsable(): void {
    const ended = this.endedError();
    if (ended) throw ended;
  }

  defaultTiming(signal?: AbortSignal): Timing {
    return { attemptTimeoutMs: this.requestTimeoutMs, deadline: this.clock.now() + 3 * this.requestTimeoutMs, signal };
  }

  /**
   * The session a call that needs one uses: the current one; between two, the next, waited for
   * until `deadline` (of the clock), then {@link UnavailableError} naming the cause.
   */
  async session(deadline: number, signal?: AbortSignal): Promise<Session> {
    for (;;) {
      this.checkUsable();
      if (signal?.aborted) throw signal.reason;
      if (this.cur) return this.cur;
      const left = deadline - this.clock.now();
      if (left <= 0) {
        throw new UnavailableError(`holdfast: no session: the last was lost (${this.lostCause}); opening a new one`);
      }
      const wake = new AbortController();
      const timer = sleep(this.clock, left, wake.signal).catch(() => undefined);
      const onAbort = () => wake.abort();
      signal?.addEventListener("abort", onAbort, { once: true });
      await Promise.race([this.changed.promise, timer]);
      signal?.removeEventListener("abort", onAbort);
      wake.abort();
    }
  }

  /** A numbered write of the current session (waited for between two, within the timing). */
  async write(path: string, fields: Record<string, unknown>, timing?: Timing): Promise<Answer> {
    const t = timing ?? this.defaultTiming();
    const session = await this.session(t.deadline, t.signal);
    return session.write(path, fields, t);
  }

  /** A read at the home member: it needs no session, and is served between two as well. */
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

  /** A group member this client joined (and is joined again after a lost session). */
  joinedMember(prefix: string, member: string, value: Uint8Array | string): void {
    this.joined.set(`${prefix}\u0000${member}`, { prefix, member, value });
  }

  leftMember(prefix: string, member: string): void {
    this.joined.delete(`${prefix}\u0000${member}`);
  }

  onRejoinFailed(prefix: string, listener: (member: string, holder: string | null) => void): void {
    const list = this.rejoinFailed.get(prefix) ?? [];
    list.push(listener);
    this.rejoinFailed.set(prefix, list);
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    const cur = this.cur;
    this.cur = undefined;
    this.closing = (async () => {
      this.life.abort();
      this.changed.resolve();
      if (cur) await cur.close();
    })();
    return this.closing;
  }

  private begin(session: Session): void {
    this.cur = session;
    this.lastId = session.id;
    this.ownIds.push(session.id);
    if (this.ownIds.length > 64) this.ownIds.shift();
    session.onExpired((error) => this.lost(session, error));
    const woken = this.changed;
    this.changed = deferred();
    woken.resolve();
  }

  private lost(session: Session, error: SessionExpiredError): void {
    if (this.cur !== session || this.closing) return;
    this.cur = undefined;
    this.lostCause = error.message.replace(/^holdfast: /, "");
    const cause = new SessionExpiredError(`holdfast: session ${session.id} was lost: ${this.lostCause}`);
    if (!this.renew) {
      this.finalError = error;
      this.life.abort();
      this.changed.resolve();
    }
    this.tell((l) => l.lost?.(session.id, cause));
    if (!this.renew) {
      for (const l of this.expiryListeners.splice(0)) call(() => l(error));
      return;
    }
    this.log(`session ${session.id} was lost (${this.lostCause}); opening a new one`);
    void this.openNext();
  }

  private async openNext(): Promise<void> {
    const backoff = new RenewBackoff(this.random);
    const cause = this.lostCause;
    while (!this.closing) {
      let next: Session;
      try {
        next = await Session.open(this.transport, this.options, this.clock.now() + this.requestTimeoutMs);
      } catch (e) {
        this.lostCause = `${cause}; the last try to open another: ${(e as Error).message.replace(/^holdfast: /, "")}`;
        try {
          await sleep(this.clock, backoff.delayMs(), this.life.signal);
        } catch {
          return;
        }
        continue;
      }
      if (this.closing) {
        await next.close().catch(() => undefined);
        return;
      }
      this.begin(next);
      this.log(`session ${next.id} opened`);
      this.tell((l) => l.reestablished?.(next.id));
      // Not awaited: a member the service cannot take for now must not keep the others out, nor
      // hold up this loop (the next loss begins a newer round, which ends this one's tries).
      const round = ++this.rejoinRound;
      for (const key of [...this.joined.keys()]) {
        this.rejoinMember(key, round).catch(() => undefined); // its failures are logged in it; none may go unhandled
      }
      return;
    }
  }

  /**
   * Joins the member `key` of {@link joined} again under the new session, with its latest value,
   * until the join is written or another session holds the name (the group's `onRejoinFailed`
   * listeners are told, and it is not tried again). Any other failure (the service unreachable
   * again right after the new session opened, this session lost too, a refusal that may pass) is
   * tried again after a {@link RejoinBackoff} pause: tried once, it would keep the member out of
   * its group for the whole session. The tries stop too once the member left, the client is
   * closed, or a newer session began its own round (`round` is no longer the latest), which joins
   * the member instead.
   */
  private async rejoinMember(key: string, round: number): Promise<void> {
    const backoff = new RejoinBackoff();
    for (;;) {
      const entry = this.joined.get(key);
      if (entry === undefined || this.closing || round !== this.rejoinRound) return;
      const { prefix, member, value } = entry;
      try {
        await this.rejoin(prefix, member, value);
        return;
      } catch (e) {
        if (e instanceof ConflictError) {
          call(() => this.log(`joining ${prefix}${member} again: ${e.message}`));
          this.leftMember(prefix, member);
          for (const l of this.rejoinFailed.get(prefix) ?? []) call(() => l(member, e.holder ?? null));
          return;
        }
        const pause = backoff.delayMs();
        call(() => this.log(`joining ${prefix}${member} again: ${(e as Error).message}; trying again in ${pause} ms`));
        try {
          await sleep(this.clock, pause, this.life.signal);
        } catch {
          return; // the client is closed
        }
      }
    }
  }

  private tell(fn: (l: SessionListener) => void): void {
    for (const l of [...this.listeners]) call(() => fn(l));
  }
}

function call(fn: () => void): void {
  try {
    fn();
  } catch {
    // a listener's failure is its own
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
