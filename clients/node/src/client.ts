/**
 * The client: one session at a Holdfast cluster, over the members' HTTP ports.
 *
 * ```ts
 * const client = await Client.connect({ members: ["http://127.0.0.1:4655"] });
 * const lease = await client.acquire("jobs/nightly", { waitMs: 30_000 });
 * try { … lease.fencingToken … } finally { await lease.release(); await client.close(); }
 * ```
 *
 * Guaranteed (with a server that keeps protocol.md):
 * - a call whose answer was lost (connection error, timeout, `503`, `504`) is re-sent with the
 *   same request id, so the cluster applies it once and answers it with its first answer;
 * - a wait survives a leader change: the same request is sent to the new leader;
 * - every loss the cluster reports (revoke, lease timeout, session expiry) reaches the lease's
 *   callback, also across a reconnect (the event stream resumes; a gap is resolved from state).
 * Not guaranteed: that a lease is still held at the instant `valid` is read; fence what the lock
 * protects with its token.
 */
import { HoldfastError, InvalidArgumentError, LockTimeoutError, SessionExpiredError } from "./errors";
import { Election } from "./election";
import { Lease, LeaseSet } from "./lease";
import { Register } from "./register";
import { SessionListener, Sessions } from "./renew";
import { Session } from "./session";
import type { Clock } from "./clock";
import { Answer, Calls, FetchLike, Transport } from "./transport";
import { LockMode, checkMode, checkName, checkNames, checkNonNegative, checkPermits, checkPositive } from "./validate";
import { Keys } from "./keys";
import { Watch, WatchOptions, WatchTarget, awaitFree } from "./watch";

(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for("Symbol.asyncDispose");

export interface ClientOptions {
  /** HTTP base URLs of the members, e.g. `["http://10.0.0.1:4655", "http://10.0.0.2:4655"]`. */
  members: string[];
  /** Session TTL in ms (1,000 to 600,000); default 10,000. */
  ttlMs?: number;
  /** Shown to operators; default `node@<pid>`. */
  clientName?: string;
  /** Timeout of one HTTP exchange in ms; default 5,000. Acquires add their wait to it. */
  requestTimeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** After the session expires, its locks stay ungrantable this long (0 to 60,000 ms). */
  lockDelayMs?: number;
  /** Receives one-line diagnostics (retries, leader changes, losses); default: none. */
  log?: (message: string) => void;
  /** Replaces the global fetch (tests). */
  fetch?: FetchLike;
  /**
   * The one clock every deadline, pause, heartbeat, renewal and timer of this client reads and
   * waits on (tests: one they move themselves); default `Date.now()` and the global timers.
   */
  clock?: Clock;
  /**
   * Which member the client sends to, its *home*: `"home"` (default) picks one at random among
   * `members`, so that a fleet spreads over them; `"first"` takes the first one listed (a member
   * near the client). Every member serves a session (a follower forwards writes and waits to the
   * leader); the home moves to another member only when it fails the client, picked the same way
   * (`"first"`: the next one listed after the one that failed). Anything else is an
   * {@link InvalidArgumentError}.
   */
  calls?: Calls;
  /** Picks the homes, the first and each one after a home failed (tests): like `Math.random`, a number in [0, 1); default `Math.random`. */
  random?: () => number;
  /**
   * Whether the client opens a new session when its session is lost (default true; see
   * src/renew.ts). `false`: the client ends with its session, as the command line's long-running
   * commands need.
   */
  renewSessions?: boolean;
}

export interface AcquireOptions {
  /** `exclusive` (default), `shared` (a read lock), or `permits` (a semaphore). */
  mode?: LockMode;
  /** For `permits`: how many (default 1). */
  permits?: number;
  /** For `permits`: the semaphore's size (default: `permits`). */
  maxPermits?: number;
  /** Who inside the session asks (a non-negative integer; default 0); deadlock detection follows owners. */
  owner?: number;
  /** How long to queue, in ms; 0 (default): try once. */
  waitMs?: number;
  /** A lease timeout in ms: renewed by the library every leaseMs/3 while held; 0 (default): none. */
  leaseMs?: number;
  /**
   * Gives up the wait: the acquire rejects with the signal's reason, the wait is withdrawn from the
   * queue (`POST /api/v1/cancel`), and a grant the cancel reports as already made is released.
   */
  signal?: AbortSignal;
}

export type AcquireAllOptions = Omit<AcquireOptions, "permits" | "maxPermits">;

/** Slack added to an acquire's wait for its overall deadline. */
const ACQUIRE_SLACK_MS = 3000;

export class Client {
  private readonly transport: Transport;
  private readonly sessions: Sessions;
  private closing: Promise<void> | undefined;

  private constructor(transport: Transport, sessions: Sessions) {
    this.transport = transport;
    this.sessions = sessions;
    sessions.rejoin = (prefix, member, value) => this.keys().group(prefix).join(member, value);
  }

  /**
   * Opens a session at the client's home member (see {@link ClientOptions.calls}; moving on to
   * another member when one fails, and round them again after a backoff). Rejects with {@link UnavailableError} naming the
   * last cause when no member answered within 3× the request timeout, and with
   * {@link InvalidArgumentError} for a bad option, before anything is sent.
   */
  static async connect(options: ClientOptions): Promise<Client> {
    if (!options || !Array.isArray(options.members) || options.members.length === 0) {
      throw new InvalidArgumentError("holdfast: members must list at least one HTTP base URL");
    }
    const ttlMs = options.ttlMs ?? 10_000;
    checkPositive(ttlMs, "ttlMs");
    const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    checkPositive(requestTimeoutMs, "requestTimeoutMs");
    if (options.lockDelayMs !== undefined) checkNonNegative(options.lockDelayMs, "lockDelayMs");
    const log = options.log ?? (() => {});
    const transport = new Transport({
      members: options.members,
      requestTimeoutMs,
      bearerToken: options.bearerToken,
      fetch: options.fetch,
      log,
      clock: options.clock,
      calls: options.calls,
      random: options.random,
    });
    try {
      const sessionOptions = {
        ttlMs,
        clientName: options.clientName ?? `node@${typeof process !== "undefined" ? process.pid : "client"}`,
        requestTimeoutMs,
        lockDelayMs: options.lockDelayMs,
        log,
      };
      const session = await Session.open(transport, sessionOptions);
      return new Client(transport, new Sessions(transport, sessionOptions, session, options.renewSessions !== false));
    } catch (e) {
      transport.close();
      throw e;
    }
  }

  /**
   * The current session's id. It changes each time a lost session is followed by a new one (the
   * lost one's until the next is open).
   */
  get sessionId(): string {
    return this.sessions.id;
  }

  /** The session's TTL in ms, as the server granted it. */
  get ttlMs(): number {
    return this.sessions.current?.ttlMs ?? 0;
  }

  /**
   * Whether the client ended with its session (only with `renewSessions: false`; then every call
   * fails with {@link SessionExpiredError}).
   */
  get expired(): boolean {
    return this.sessions.expired;
  }

  /** Whether the session is lost and the next one not open yet. */
  get renewing(): boolean {
    return this.sessions.renewing;
  }

  /**
   * Calls the listener once when the client ends with its session (only with
   * `renewSessions: false`; not when it is closed). See {@link onSession} for every loss.
   */
  onExpired(listener: (error: SessionExpiredError) => void): this {
    this.sessions.onExpired(listener);
    return this;
  }

  /**
   * Adds a session listener: `lost(oldId, cause)` when the session is lost (`cause`: a
   * {@link SessionExpiredError} naming why), then `reestablished(newId)` once the next is open, in
   * that order (src/renew.ts).
   */
  onSession(listener: SessionListener): this {
    this.sessions.addListener(listener);
    return this;
  }

  /**
   * Acquires a lock: exclusive by default, or shared, or `permits` of a semaphore. Resolves with
   * the {@link Lease}; rejects with {@link LockTimeoutError} when not granted within `waitMs`
   * (0: at once), {@link DeadlockError}, {@link LockLostError} (granted and lost before the answer),
   * {@link SessionExpiredError}, {@link InvalidArgumentError}, {@link UnavailableError}, or the
   * signal's reason when aborted.
   */
  async acquire(name: string, options: AcquireOptions = {}): Promise<Lease> {
    checkName(name);
    const mode = checkMode(options.mode ?? "exclusive");
    const waitMs = checkNonNegative(options.waitMs ?? 0, "waitMs");
    const leaseMs = checkNonNegative(options.leaseMs ?? 0, "leaseMs");
    const owner = checkNonNegative(options.owner ?? 0, "owner");
    const fields: Record<string, unknown> = { name, mode, owner, waitMillis: waitMs, leaseMillis: leaseMs };
    let permits = 1;
    if (mode === "permits") {
      const p = checkPermits(options.permits ?? 1, options.maxPermits ?? options.permits ?? 1);
      permits = p.permits;
      fields.permits = p.permits;
      fields.maxPermits = p.maxPermits;
    } else if (options.permits !== undefined && options.permits !== 1) {
      throw new InvalidArgumentError(`holdfast: permits apply to mode permits, not ${mode}`);
    }
    const { answer, session } = await this.waitFor("/api/v1/acquire", name, fields, waitMs, options.signal);
    if (answer.body?.granted === false || typeof answer.body?.token !== "number") {
      throw new LockTimeoutError(`holdfast: ${name} was not granted (answer without a token)`, answer.status);
    }
    const lease = new Lease(session, name, answer.body.token, mode, permits, leaseMs);
    session.adopt(lease);
    session.checkUsable(); // closed or expired while the answer was on its way
    return lease;
  }

  /** Acquires `permits` of the semaphore `name` of `maxPermits` (mode `permits`). */
  async semaphore(name: string, permits: number, maxPermits: number, options: Omit<AcquireOptions, "mode" | "permits" | "maxPermits"> = {}): Promise<Lease> {
    checkPermits(permits, maxPermits);
    return this.acquire(name, { ...options, mode: "permits", permits, maxPermits });
  }

  /**
   * Acquires every lock of `names` at once, or none (1 to 64 names, no repeats); one lease (and
   * fencing token) per name. Same errors as {@link acquire}.
   */
  async acquireAll(names: string[], options: AcquireAllOptions = {}): Promise<LeaseSet> {
    const list = checkNames(names);
    const mode = checkMode(options.mode ?? "exclusive");
    if (mode === "permits") throw new InvalidArgumentError("holdfast: acquireAll takes exclusive or shared locks");
    const waitMs = checkNonNegative(options.waitMs ?? 0, "waitMs");
    const leaseMs = checkNonNegative(options.leaseMs ?? 0, "leaseMs");
    const owner = checkNonNegative(options.owner ?? 0, "owner");
    const fields = { names: list, mode, owner, waitMillis: waitMs, leaseMillis: leaseMs };
    const { answer, session } = await this.waitFor("/api/v1/acquire-all", list[0], fields, waitMs, options.signal);
    const locks: any[] = Array.isArray(answer.body?.locks) ? answer.body.locks : [];
    if (answer.body?.granted === false || locks.length === 0) {
      throw new LockTimeoutError(`holdfast: ${list.join(", ")} were not granted (answer without locks)`, answer.status);
    }
    const leases = locks.map((l) => new Lease(session, String(l.name), Number(l.token), mode, 1, leaseMs));
    for (const lease of leases) session.adopt(lease);
    session.checkUsable();
    return new LeaseSet(leases);
  }

  /** A register of this cluster (no request is sent until get or compareAndSet). */
  register(key: string): Register {
    return new Register(this.sessions, key);
  }

  /** The keys of this cluster, written through this session: get, put, delete, add, list, scan, watch, commit, group. */
  keys(): Keys {
    return new Keys(this.sessions, (target, options) => this.watch(target, options));
  }

  /** Whether `token` is the current grant of lock `name` (linearizable, at the leader). */
  async isCurrent(name: string, token: number, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    checkName(name);
    checkNonNegative(token, "token");
    const query = `name=${encodeURIComponent(name)}&token=${token}`;
    const answer = await this.sessions.read(`/api/v1/fence?${query}`, options.signal);
    return answer.body?.current === true;
  }

  /**
   * Follows a lock (`"jobs/a"` or `{ lock }`), the locks under a prefix (`{ prefix: "jobs/" }`,
   * `""` for all), a register (`{ register: "config/x" }`) or the keys under a prefix
   * (`{ keys: "services/" }`): an async iterator of
   * {@link WatchEvent}s, the complete state (`state`) first, then every change in the cluster's
   * order, until closed (see src/watch.ts for what it guarantees). Throws
   * {@link InvalidArgumentError} for a bad target; a target the server refuses rejects the iteration.
   */
  watch(target: WatchTarget, options: WatchOptions = {}): Watch {
    this.sessions.checkUsable();
    const sessions = this.sessions;
    return new Watch(
      {
        transport: this.transport,
        requestTimeoutMs: sessions.requestTimeoutMs,
        lifeSignal: sessions.lifeSignal,
        endedError: () => sessions.endedError(),
        log: sessions.log,
      },
      target,
      options,
    );
  }

  /**
   * Resolves true once nobody holds lock `name`, false when `timeoutMs` passes first (through a
   * watch). No grant: the lock may be taken again at once.
   */
  async awaitFree(name: string, timeoutMs: number): Promise<boolean> {
    checkName(name);
    checkNonNegative(timeoutMs, "timeoutMs");
    this.sessions.checkUsable();
    return awaitFree(this.sessions.clock, () => this.watch(name), name, timeoutMs, 3 * this.sessions.requestTimeoutMs);
  }

  /** The leader election of `name` (its lock and its register): campaign, leader. */
  election(name: string): Election {
    return new Election(this, this.sessions, name);
  }

  /**
   * Stops the background loops, closes the session at the cluster and ends every lease (without a
   * loss report). Idempotent; resolves once the cluster answered (or could not be reached: then it
   * rejects with {@link UnavailableError}, and the session ends by itself after its TTL).
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = this.sessions.close().finally(() => this.transport.close());
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * An acquire or acquire-all: sent with a new number, re-sent with it until the final answer or
   * the deadline (wait + request timeout + slack); on abort, the wait is withdrawn.
   */
  private async waitFor(
    path: string,
    name: string,
    fields: Record<string, unknown>,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<{ answer: Answer; session: Session }> {
    this.sessions.checkUsable();
    if (signal?.aborted) throw signal.reason;
    const timeoutMs = this.sessions.requestTimeoutMs;
    const session = await this.sessions.session(this.sessions.clock.now() + waitMs + timeoutMs, signal);
    session.checkUsable();
    const requestId = session.ledger.begin();
    try {
      const answer = await session.writeNumbered(requestId, path, fields, {
        attemptTimeoutMs: waitMs + timeoutMs,
        deadline: session.clock.now() + waitMs + timeoutMs + ACQUIRE_SLACK_MS,
        signal,
      });
      return { answer, session };
    } catch (e) {
      if (signal?.aborted && e === signal.reason && session.ledger.isOutstanding(requestId)) {
        await this.withdraw(session, name, requestId);
      }
      throw e;
    }
  }

  /**
   * Withdraws an abandoned wait (`POST /api/v1/cancel`), settles the wait's number once the
   * cancel is answered, and releases a grant the cancel reports as already made. If the cancel gets no answer the number stays
   * outstanding (the wait may still be granted; the grant then ends with the session).
   */
  private async withdraw(session: Session, name: string, waitRequestId: number): Promise<void> {
    try {
      const answer = await session.write("/api/v1/cancel", { name, waitRequestId });
      session.ledger.settle(waitRequestId);
      const body = answer.body ?? {};
      const grants: Array<{ name: string; token: number }> = [];
      if (body.cancelled === false) {
        if (typeof body.token === "number") grants.push({ name: typeof body.name === "string" ? body.name : name, token: body.token });
        if (Array.isArray(body.locks)) for (const l of body.locks) grants.push({ name: String(l.name), token: Number(l.token) });
      }
      for (const g of grants) {
        try {
          await session.write("/api/v1/release", { name: g.name, token: g.token });
        } catch (e) {
          session.log(`release of ${g.name} (token ${g.token}) after a cancel: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      if (e instanceof HoldfastError && e.status !== 0) session.ledger.settle(waitRequestId);
      session.log(`cancel of the wait for ${name}: ${(e as Error).message}`);
    }
  }
}
