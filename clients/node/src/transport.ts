/**
 * HTTP transport: sends JSON to the client's home member, and re-sends a request whose answer was
 * lost (protocol.md, "Members and the leader").
 *
 * - The **home** is the member the client sends to (every member serves a session: a follower
 *   relays heartbeats and forwards writes and waits to the leader). It is picked at random among
 *   the members given, so that a fleet spreads over them (`calls: "first"`: the first one listed),
 *   and moves only when it fails the client: after a failure below, to another member picked as
 *   the first one was (`calls: "first"`: the next one listed after the failed one), so that
 *   the clients of a member that dies spread over the others; or to the leader that its
 *   `503 NOT_LEADER` names (a member that does not serve the call, such as one of
 *   an older build). A call that succeeds elsewhere, or a change of leader, does not move it.
 * - Learns each address's member id from its `GET /status` (`"id"`) when a `NOT_LEADER` answer
 *   names a leader it cannot place (at most twice a second).
 * - `503 NOT_LEADER` naming a known leader: the same request goes to that leader at once.
 * - A connection error, a timeout, `503` without a known leader, `503 UNAVAILABLE` or `504`: the
 *   same request goes at once to the home, if the home moved to an address not tried yet in this
 *   round, else to the next address after it not tried yet. Once every address
 *   has been tried, it goes round them again after a pause: while members answer `NOT_LEADER` (an
 *   election), a {@link LeaderSearch} pause (20 ms doubling to 100 ms, for up to 3 s), otherwise
 *   a backoff (50 ms doubling to 1 s); both with jitter.
 * - Any other answer is final: a `2xx` is returned, anything else is raised as a typed error.
 * - Past the call's deadline it gives up with {@link UnavailableError} naming the last cause.
 *
 * The request body is serialized once, so a re-sent request is byte for byte the first one (the
 * same `requestId`, the same `ackedBelow`).
 */
import { formatDuration } from "./durations";
import { Backoff, LeaderSearch, anySignal, sleep } from "./backoff";
import { Clock, exchangeTimeout, systemClock } from "./clock";
import { InvalidArgumentError, UnavailableError, describeNetworkError, errorFromAnswer, isRetryable, ErrorBody } from "./errors";

/** The parts of the global `fetch` the transport uses (replaceable in tests). */
export type FetchLike = (url: string, init: {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}) => Promise<{ status: number; text(): Promise<string> }>;

export interface TransportOptions {
  /** HTTP base URLs of the members, e.g. `http://127.0.0.1:4655`. */
  members: string[];
  /** Timeout of one HTTP exchange (acquires add their wait to it). */
  requestTimeoutMs: number;
  /** Sent as `Authorization: Bearer …` when set. */
  bearerToken?: string;
  /** Replaces the global fetch (tests). */
  fetch?: FetchLike;
  /** Receives one-line diagnostics (retries, leader changes). */
  log?: (message: string) => void;
  /** The client's one clock (see clock.ts); default {@link systemClock}. */
  clock?: Clock;
  /**
   * The homes: `"home"` (default) picks the first at random among the members, `"first"` takes the
   * first one; a home that fails moves to another member picked the same way.
   */
  calls?: Calls;
  /** Picks the homes (tests): like `Math.random`, a number in [0, 1); default `Math.random`. */
  random?: () => number;
}

/** Which member a client sends to first: one picked at random (`home`), or the first listed (`first`). */
export type Calls = "home" | "first";

/** Checks a `calls` option: `home` (also when absent) or `first`; anything else is an {@link InvalidArgumentError}. */
export function checkCalls(calls: unknown): Calls {
  if (calls === undefined || calls === "home") return "home";
  if (calls === "first") return "first";
  throw new InvalidArgumentError(`holdfast: calls is "home" or "first", not ${JSON.stringify(calls) ?? String(calls)}`);
}

/** One call: the same request is sent until its final answer or its deadline. */
export interface CallOptions {
  method: "GET" | "POST" | "DELETE";
  /** Path and query, e.g. `/api/v1/acquire`. */
  path: string;
  /** The JSON body, serialized once before the first send. */
  body?: unknown;
  /** Timeout of each HTTP exchange. */
  attemptTimeoutMs: number;
  /** The time of the client's clock after which no further try is started. */
  deadline: number;
  /** Aborting it rejects the call with the signal's reason. */
  signal?: AbortSignal;
}

/** A final, successful answer. */
export interface Answer {
  status: number;
  body: any;
  /** When the try that got this answer was sent (the client's clock). */
  sentAt: number;
  /** The address that answered. */
  member: string;
}

/** An answer of any status from one exchange. */
export interface RawAnswer {
  status: number;
  body: any;
}

/** A try that got no answer (connection error, timeout); `description` says why, in a few words. */
export class NetworkFailure extends Error {
  constructor(readonly description: string) {
    super(description);
  }
}

export class Transport {
  readonly members: string[];
  /** The client's one clock: every part of the client that has the transport reads time and waits on it. */
  readonly clock: Clock;
  private readonly requestTimeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: FetchLike;
  private readonly log: (message: string) => void;
  private readonly closeController = new AbortController();
  /** Index of the home: the member this client sends to. */
  private home: number;
  /** Picks a home among `n` candidates, an index in [0, n): the first, and each one after a home failed. */
  private readonly pick: (n: number) => number;
  /** Member id -> index of its address. */
  private readonly ids = new Map<string, number>();
  private learning: Promise<void> | undefined;
  private lastLearned = 0;

  constructor(options: TransportOptions) {
    if (!Array.isArray(options.members) || options.members.length === 0) {
      throw new InvalidArgumentError("holdfast: members must list at least one HTTP base URL");
    }
    this.members = options.members.map((m) => String(m).replace(/\/+$/, ""));
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.headers = { accept: "application/json" };
    if (options.bearerToken) this.headers["authorization"] = `Bearer ${options.bearerToken}`;
    this.fetchImpl = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
    this.log = options.log ?? (() => {});
    this.clock = options.clock ?? systemClock;
    const random = options.random ?? Math.random;
    this.pick = checkCalls(options.calls) === "first" ? () => 0 : (n) => Math.floor(random() * n);
    this.home = this.pickAmong(this.members.length);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.closeController.signal.aborted;
  }

  /** The home: the address the transport sends to. */
  get homeAddress(): string {
    return this.members[this.home];
  }

  /** The index of {@link homeAddress}. */
  get homeIndex(): number {
    return this.home;
  }

  /** @deprecated the home is not the leader: use {@link homeAddress}. */
  get leaderAddress(): string {
    return this.homeAddress;
  }

  /** @deprecated the home is not the leader: use {@link homeIndex}. */
  get leaderIndex(): number {
    return this.homeIndex;
  }

  /** Ends every exchange in flight; later calls fail with {@link UnavailableError}. */
  close(): void {
    if (!this.closed) this.closeController.abort(new UnavailableError("holdfast: the client is closed"));
  }

  /**
   * Asks every address's `GET /status` for its member id, in parallel. Addresses that do not
   * answer stay unknown. At most one round runs at a time. It does not move the home.
   */
  learnMembers(): Promise<void> {
    if (this.learning) return this.learning;
    this.learning = (async () => {
      const timeout = Math.min(this.requestTimeoutMs, 2000);
      const answers = await Promise.all(
        this.members.map((url) => this.exchange(url, "GET", "/status", undefined, timeout).catch(() => undefined)),
      );
      // Fill in member order, so that an id answered by two addresses maps to the first one.
      answers.forEach((a, i) => {
        const id = a && a.status === 200 && a.body && typeof a.body.id === "string" ? a.body.id : undefined;
        if (id !== undefined && !this.ids.has(id)) this.ids.set(id, i);
      });
      this.lastLearned = this.clock.now();
    })().finally(() => {
      this.learning = undefined;
    });
    return this.learning;
  }

  /** The address index of a member id, learning the ids again (at most twice a second) if unknown. */
  private async indexOf(id: string): Promise<number | undefined> {
    if (!this.ids.has(id) && this.clock.now() - this.lastLearned > 500) await this.learnMembers();
    return this.ids.get(id);
  }

  /** {@link pick} among `n`, kept in [0, n). */
  private pickAmong(n: number): number {
    const k = this.pick(n);
    return k >= 0 && k < n ? k : 0;
  }

  /**
   * Member `from` failed a call: the home, unless it is elsewhere already, moves to another member
   * picked as the first home was among the others, counted on from the one after `from`
   * (`(from + 1 + pick(n - 1)) % n`): at random, so that the clients of a member that dies spread
   * over the others instead of all moving to its successor; `calls: "first"`: the next one listed
   * (the first after the last), so that members that fail in turn walk the home down the list.
   */
  rotateFrom(from: number): void {
    const n = this.members.length;
    if (this.home !== from || n < 2) return;
    const k = this.pickAmong(n - 1); // one of the others, counted on from the one after it
    this.home = (from + 1 + k) % n;
  }

  /** Member `from` named `to` as the leader: the home moves there, unless it is elsewhere already. */
  private moveHome(from: number, to: number): void {
    if (this.home === from) this.home = to;
  }

  /**
   * Sends the request, first to the home, until a final answer or the deadline (see the file comment).
   * Resolves with a `2xx` answer; rejects with a typed error for a final error answer, with
   * {@link UnavailableError} at the deadline, or with the signal's reason when it aborts.
   */
  async call(options: CallOptions): Promise<Answer> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const backoff = new Backoff();
    const search = new LeaderSearch();
    let lastCause = "";
    /** The addresses that could not serve the call in this round. */
    const tried = new Set<number>();
    /** Whether one of them answered `NOT_LEADER`. */
    let notLeader = false;
    let index = this.home;
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (this.closed) throw new UnavailableError("holdfast: the client is closed");
      const now = this.clock.now();
      if (now >= options.deadline) {
        throw new UnavailableError(
          lastCause
            ? `holdfast: cannot reach any member (${lastCause})`
            : `holdfast: no time left for ${options.method} ${options.path}`,
        );
      }
      const url = this.members[index];
      const timeout = Math.max(1, Math.min(options.attemptTimeoutMs, options.deadline - now));
      const sentAt = this.clock.now();
      let answer: RawAnswer | undefined;
      try {
        answer = await this.exchange(url, options.method, options.path, body, timeout, options.signal);
      } catch (e) {
        if (!(e instanceof NetworkFailure)) throw e;
        lastCause = `${url}: ${e.description}`;
        this.log(`${options.method} ${options.path}: ${lastCause}; trying the next member`);
      }
      if (answer !== undefined) {
        if (answer.status >= 200 && answer.status < 300) {
          return { status: answer.status, body: answer.body, sentAt, member: url };
        }
        const error: ErrorBody | undefined = answer.body?.error;
        if (!isRetryable(answer.status, error?.code)) throw errorFromAnswer(answer.status, error);
        lastCause = `${url}: ${answer.status} ${error?.code ?? ""}${error?.message ? ": " + error.message : ""}`.trim();
        if (error?.code === "NOT_LEADER") {
          notLeader = true;
          const leaderIndex = typeof error.leader === "string" && error.leader ? await this.indexOf(error.leader) : undefined;
          if (leaderIndex !== undefined && leaderIndex !== index && !tried.has(leaderIndex)) {
            this.log(`${options.method} ${options.path}: leader is ${error.leader} at ${this.members[leaderIndex]}`);
            tried.add(index);
            this.moveHome(index, leaderIndex);
            index = leaderIndex;
            continue;
          }
        }
        this.log(`${options.method} ${options.path}: ${lastCause}; trying again`);
      }
      tried.add(index);
      this.rotateFrom(index);
      index = this.home;
      if (tried.size < this.members.length) {
        while (tried.has(index)) index = (index + 1) % this.members.length;
        continue;
      }
      // Every address has been tried: the next round, after a pause.
      const pause = (notLeader ? search.next(this.clock.now()) : undefined) ?? backoff.next();
      tried.clear();
      notLeader = false;
      await this.pause(pause, options);
      index = this.home;
    }
  }

  private async pause(ms: number, options: CallOptions): Promise<void> {
    const left = options.deadline - this.clock.now();
    if (left <= 0) return;
    const { signal, dispose } = anySignal([options.signal, this.closeController.signal]);
    try {
      await sleep(this.clock, Math.min(ms, left), signal);
    } finally {
      dispose();
    }
  }

  /**
   * One HTTP exchange with one address. Resolves with the answer of any status (the body parsed as
   * JSON where it is JSON); rejects with {@link NetworkFailure} when no answer came, with the
   * signal's reason when it aborted, or with {@link UnavailableError} once the transport is closed.
   */
  async exchange(
    url: string,
    method: string,
    path: string,
    body: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<RawAnswer> {
    // The exchange's own timeout is the network's, in real time (see clock.ts); deadlines and pauses are the clock's.
    const timeout = exchangeTimeout(timeoutMs);
    const combined = anySignal([signal, timeout.signal, this.closeController.signal]);
    const headers = body === undefined ? this.headers : { ...this.headers, "content-type": "application/json" };
    try {
      const res = await this.fetchImpl(url + path, { method, headers, body, signal: combined.signal });
      const text = await res.text();
      return { status: res.status, body: parseBody(res.status, text) };
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (this.closed) throw new UnavailableError("holdfast: the client is closed");
      if (timeout.signal.aborted) throw new NetworkFailure(`no answer within ${formatDuration(timeoutMs)}`);
      throw new NetworkFailure(describeNetworkError(e));
    } finally {
      timeout.clear();
      combined.dispose();
    }
  }
}

/** Parses a JSON body; a non-JSON error body becomes `{"error":{"message":<text>}}`. */
export function parseBody(status: number, text: string): any {
  if (text.length === 0) return {};
  try {
    return JSON.parse(text);
  } catch {
    if (status >= 200 && status < 300) return {};
    return { error: { message: text.slice(0, 300) } };
  }
}
