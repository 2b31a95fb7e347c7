/**
 * Watches (protocol.md, "Watches"): follow a lock, the locks under a prefix, a register, or the
 * keys under a prefix.
 *
 * A {@link Watch} long-polls `GET /api/v1/watch` at the member the client believes leads (any
 * member serves it), resuming from the position of the last change it received and moving on to
 * the next member with backoff after an error, like the session's event stream. It is an async
 * iterator: a `state` event first (the complete state, sent when a poll has no position or its
 * member no longer has the changes since it), then one event per change, in the cluster's order;
 * after such a gap, a fresh `state` again.
 *
 * Guaranteed: positions are the same at every member, so a watch that moves to another member (a
 * broken connection, the leader's death) is told every change it had not been told, none twice,
 * or, where that member cannot, a `state` that replaces everything known before. Not guaranteed:
 * that a change is told once only across a gap (the state may already show a change told again
 * after it). A watch is no lock: {@link awaitFree} resolving true means nobody held the lock then.
 *
 * {@link parseWatchPage} is the pure part (canned JSON in, events out); {@link Watch} is the loop.
 */
import { formatDuration } from "./durations";
import { anySignal } from "./backoff";
import type { Clock } from "./clock";
import { longPoll } from "./longpoll";
import { HoldfastError, InvalidArgumentError, UnavailableError, errorFromAnswer } from "./errors";
import { KeyEntry, MAX_PAGE, keyEntry } from "./keys";
import { fromBase64 } from "./register";
import type { Transport } from "./transport";
import { checkName } from "./validate";

(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for("Symbol.asyncDispose");

/** What to watch: a lock's name (a string), or one of lock, prefix (`""`: every lock), register, keys (a prefix of keys). */
export type WatchTarget = string | { lock: string } | { prefix: string } | { register: string } | { keys: string };

/** `state` first (and after a gap), then one per change: the protocol's names. */
export type WatchEventType = "state" | "acquired" | "released" | "queued" | "waitEnded" | "registerSet" | "registerDeleted";

/** The route's query parameter of a target. */
export type WatchKind = "lock" | "prefix" | "register" | "keys";

export interface LockHolder {
  sessionId: string;
  token: number;
  mode: string;
  permits: number;
  clientName?: string;
}

export interface LockWaiter {
  sessionId: string;
  mode: string;
  permits: number;
  clientName?: string;
}

/** A lock that is held or waited for, as a lock watch's `state` lists it. */
export interface LockInfo {
  name: string;
  semaphore: boolean;
  maxPermits: number;
  holders: LockHolder[];
  waiters: LockWaiter[];
}

export interface WatchEvent {
  type: WatchEventType;
  /** The lock or register; for `state`, what is watched. */
  name: string;
  /** Who acquired, released, waited or wrote (absent for `state`). */
  sessionId?: string;
  /** The grant's fencing token (`acquired`, `released`); else 0. */
  token: number;
  mode?: string;
  /**
   * Why a holder left, a wait ended or a key was deleted: `released`, `leaseTimeout`,
   * `sessionExpired`, `sessionClosed`, `revoked`, `timedOut`, `cancelled` (absent for a key a
   * client deleted).
   */
  cause?: string;
  /** A register's version after a write, or in its `state` (0: never written); for `registerDeleted` the version it had; else 0. */
  version: number;
  /** A register's value at that version (null: none). */
  value: Uint8Array | null;
  /** For a lock `state`: every watched lock that is held or waited for. */
  locks: LockInfo[];
  /** For a keys `state`: every key under the prefix. */
  keys: KeyEntry[];
  /** Where the event stands in the cluster's order of changes. */
  position: string;
}

export interface WatchPage {
  events: WatchEvent[];
  next: string | undefined;
  gap: boolean;
  /** A keys `state` the server cut to fit a frame (`"more": true`): the rest is listed after its last key. */
  more?: boolean;
}

const TYPES: readonly string[] = ["acquired", "released", "queued", "waitEnded", "registerSet", "registerDeleted"];

/** Reads a 200 answer of `GET /api/v1/watch`; unknown event types are left out. */
export function parseWatchPage(body: any): WatchPage {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new TypeError("the watch answered something that is not a JSON object");
  }
  const next = body.next === undefined || body.next === null ? undefined : String(body.next);
  const page: WatchPage = { events: [], next, gap: body.gap === true };
  if (page.gap) {
    const state: WatchEvent = { type: "state", name: String(body.name ?? ""), token: 0, version: 0, value: null, locks: [], keys: [], position: next ?? "" };
    if (Array.isArray(body.keys)) {
      state.keys = body.keys.map(keyEntry);
      page.more = body.more === true;
    } else if (body.register && typeof body.register === "object") {
      state.version = Number(body.register.version ?? 0);
      state.value = state.version > 0 ? bytes(body.register.value) : null;
    } else {
      state.locks = (Array.isArray(body.locks) ? body.locks : []).map(lockInfo);
    }
    page.events.push(state);
  }
  for (const e of Array.isArray(body.events) ? body.events : []) {
    if (!e || !TYPES.includes(e.type)) continue;
    const event: WatchEvent = {
      type: e.type,
      name: String(e.name),
      token: Number(e.token ?? 0),
      version: Number(e.version ?? 0),
      value: bytes(e.value),
      locks: [],
      keys: [],
      position: String(e.position ?? ""),
    };
    if (typeof e.sessionId === "string") event.sessionId = e.sessionId;
    if (typeof e.mode === "string") event.mode = e.mode;
    if (typeof e.cause === "string") event.cause = e.cause;
    page.events.push(event);
  }
  return page;
}

function bytes(raw: unknown): Uint8Array | null {
  return typeof raw === "string" ? fromBase64(raw) : null;
}

function lockInfo(l: any): LockInfo {
  const person = (p: any) => ({
    sessionId: String(p?.sessionId),
    mode: String(p?.mode),
    permits: Number(p?.permits ?? 1),
    ...(typeof p?.clientName === "string" ? { clientName: p.clientName } : {}),
  });
  return {
    name: String(l?.name),
    semaphore: l?.semaphore === true,
    maxPermits: Number(l?.maxPermits ?? 1),
    holders: (Array.isArray(l?.holders) ? l.holders : []).map((h: any) => ({ ...person(h), token: Number(h?.token) })),
    waiters: (Array.isArray(l?.waiters) ? l.waiters : []).map(person),
  };
}

/** The tokens of every holder a lock `state` lists. */
export function holdersOf(event: WatchEvent): number[] {
  return event.locks.flatMap((l) => l.holders.map((h) => h.token));
}

/** The target as the route's query parameter; InvalidArgumentError unless it is one target. */
export function checkTarget(target: WatchTarget): { kind: WatchKind; name: string } {
  if (typeof target === "string") return { kind: "lock", name: checkName(target) };
  const given = target && typeof target === "object" ? (["lock", "prefix", "register", "keys"] as const).filter((k) => k in target) : [];
  if (given.length !== 1) throw new InvalidArgumentError("holdfast: a watch takes exactly one of lock, prefix, register or keys");
  const kind = given[0];
  const name = (target as Record<string, unknown>)[kind];
  if (kind === "prefix" || kind === "keys") {
    if (typeof name !== "string") throw new InvalidArgumentError("holdfast: a prefix is a string");
    return { kind, name };
  }
  return { kind, name: checkName(name, kind === "lock" ? "lock name" : "register key") };
}

/** What a watch needs from its client (internal). */
export interface WatchHost {
  readonly transport: Transport;
  readonly requestTimeoutMs: number;
  /** Aborted when the client closes or its session expires. */
  readonly lifeSignal: AbortSignal;
  /** Why the client can no longer be used, if it cannot. */
  endedError(): HoldfastError | undefined;
  log(message: string): void;
}

export interface WatchOptions {
  /** Aborting it closes the watch. */
  signal?: AbortSignal;
}

/** Events a watch reads ahead of its reader before its long poll waits for the reader. */
const READ_AHEAD = 10_000;
/** The most keys a keys `state` holds, as the Java client's (the server's own limit of one state). */
const MAX_STATE_KEYS = 10_000;
const WAIT_MILLIS = 20_000;

type Pending = { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: unknown) => void };

/**
 * What {@link Client.watch} returns: `for await (const event of watch)` until it is closed
 * ({@link close}, `break`, the options' signal), or rejects with the error that ended it
 * ({@link PermissionDeniedError} for a name the caller may not read, {@link InvalidArgumentError},
 * {@link SessionExpiredError} or {@link UnavailableError} when its client ended). Events come in
 * order; the watch reads up to 10,000 ahead of its reader, then waits for it.
 */
export class Watch implements AsyncIterableIterator<WatchEvent> {
  readonly kind: WatchKind;
  readonly name: string;
  private readonly stopper = new AbortController();
  private readonly buffer: WatchEvent[] = [];
  private readonly pending: Pending[] = [];
  private room: (() => void) | undefined;
  private lastPosition = "";
  private done = false;
  private error: unknown;

  /** @internal Made by {@link Client.watch}. */
  constructor(
    private readonly host: WatchHost,
    target: WatchTarget,
    options: WatchOptions = {},
    private readonly waitMillis = WAIT_MILLIS,
  ) {
    const { kind, name } = checkTarget(target);
    this.kind = kind;
    this.name = name;
    if (options.signal) {
      if (options.signal.aborted) this.close();
      else options.signal.addEventListener("abort", () => this.close(), { once: true });
    }
    void this.run();
  }

  /** The position of the last event handed out; "" before the first. */
  get position(): string {
    return this.lastPosition;
  }

  /** True once closed or ended. */
  get closed(): boolean {
    return this.done;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    const event = this.buffer.shift();
    if (event !== undefined) {
      this.lastPosition = event.position;
      this.room?.();
      return Promise.resolve({ value: event, done: false });
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  /** `break` in a `for await` loop closes the watch. */
  return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops the watch: iteration ends (events not yet read are dropped), the long poll is aborted. Idempotent. */
  close(): void {
    if (!this.stopper.signal.aborted) this.stopper.abort();
    this.end(undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  private end(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.room?.();
    if (error === undefined) this.buffer.length = 0;
    else this.error = error;
    for (const p of this.pending.splice(0)) {
      if (error === undefined) p.resolve({ value: undefined, done: true });
      else p.reject(error);
    }
  }

  private async deliver(event: WatchEvent): Promise<void> {
    const waiting = this.pending.shift();
    if (waiting) {
      this.lastPosition = event.position;
      waiting.resolve({ value: event, done: false });
      return;
    }
    this.buffer.push(event);
    while (this.buffer.length >= READ_AHEAD && !this.done) {
      await new Promise<void>((resolve) => (this.room = resolve));
      this.room = undefined;
    }
  }

  /**
   * Completes a keys `state` the server cut to fit a frame (`"more": true`): lists the keys after
   * its last one, a page at a time, up to 10,000, before the events from its position are told
   * (which cover every change since: one may be told twice, none missed). A listing that fails
   * for a while ({@link UnavailableError}) is asked again from where it stopped; any other error
   * (a prefix the caller may not read, the session's end) ends the watch.
   */
  private async restOfState(state: WatchEvent, signal: AbortSignal): Promise<void> {
    let after = state.keys.length > 0 ? state.keys[state.keys.length - 1].key : "";
    while (state.keys.length < MAX_STATE_KEYS && !this.done) {
      const limit = Math.min(MAX_PAGE, MAX_STATE_KEYS - state.keys.length);
      const query = new URLSearchParams({ prefix: this.name, after, limit: String(limit) });
      let body: any;
      try {
        body = (
          await this.host.transport.call({
            method: "GET",
            path: `/api/v1/keys?${query}`,
            attemptTimeoutMs: this.host.requestTimeoutMs,
            deadline: this.host.transport.clock.now() + 3 * this.host.requestTimeoutMs,
            signal,
          })
        ).body;
      } catch (e) {
        if (!(e instanceof UnavailableError) || this.done) throw e;
        this.host.log(`watch of ${this.name}: listing its state: ${e.message}; listing again`);
        continue;
      }
      const listed: KeyEntry[] = (Array.isArray(body?.keys) ? body.keys : []).map(keyEntry);
      state.keys.push(...listed);
      if (body?.more !== true || listed.length === 0) return;
      after = listed[listed.length - 1].key;
    }
  }

  private async run(): Promise<void> {
    const signals = anySignal([this.stopper.signal, this.host.lifeSignal]);
    // A keys state larger than a frame comes cut, with "more": restOfState lists the rest.
    const query = `${this.kind}=${encodeURIComponent(this.name)}&waitMillis=${this.waitMillis}` + (this.kind === "keys" ? "&pages=true" : "");
    try {
      await longPoll({
        transport: this.host.transport,
        what: `watch of ${this.name}`,
        path: (after) => `/api/v1/watch?${query}` + (after !== undefined ? `&after=${encodeURIComponent(after)}` : ""),
        waitMillis: this.waitMillis,
        requestTimeoutMs: this.host.requestTimeoutMs,
        signal: signals.signal,
        log: (message) => this.host.log(message),
        stopped: () => {
          const ended = this.host.endedError();
          if (ended) this.end(ended);
          return this.done;
        },
        parse: parseWatchPage,
        take: async (page) => {
          if (page.more && page.events.length > 0) await this.restOfState(page.events[0], signals.signal);
          for (const event of page.events) {
            if (this.done) return false;
            await this.deliver(event);
          }
          return true;
        },
        final: (status, error) => {
          if (status < 400 || status >= 500 || status === 408 || status === 429) return false;
          this.end(errorFromAnswer(status, error)); // a bad name, or one the caller may not read
          return true;
        },
      });
      this.end(this.host.endedError());
    } catch (e) {
      const ended = this.host.endedError();
      this.end(ended ?? (e instanceof HoldfastError ? e : new UnavailableError(`holdfast: the watch of ${this.name} failed: ${(e as Error)?.message ?? String(e)}`)));
    } finally {
      signals.dispose();
    }
  }
}

/**
 * Waits until nobody holds lock `name` (true) or `timeoutMs` of `clock` pass (false), through a
 * watch made by `open`. The lock's state is needed once even for a timeout of 0: it waits up to
 * `graceMs` more for it, then rejects with {@link UnavailableError}.
 */
export async function awaitFree(
  clock: Clock,
  open: () => Watch,
  name: string,
  timeoutMs: number,
  graceMs: number,
): Promise<boolean> {
  const deadline = clock.now() + timeoutMs;
  const watch = open();
  const holders = new Set<number>();
  let stated = false;
  try {
    for (;;) {
      const limit = stated ? deadline : deadline + graceMs;
      const r = await nextWithin(clock, watch, limit - clock.now());
      if (r === "timeout") {
        if (!stated) throw new UnavailableError(`holdfast: could not read the state of ${name} within ${formatDuration(timeoutMs + graceMs)}`);
        return false;
      }
      if (r.done) throw new UnavailableError(`holdfast: the watch of ${name} was closed`);
      const event = r.value;
      if (event.type === "state") {
        holders.clear();
        for (const t of holdersOf(event)) holders.add(t);
        stated = true;
      } else if (event.type === "acquired") {
        holders.add(event.token);
      } else if (event.type === "released") {
        holders.delete(event.token);
      } else {
        continue;
      }
      if (stated && holders.size === 0) return true;
    }
  } finally {
    watch.close();
  }
}

async function nextWithin(clock: Clock, watch: Watch, ms: number): Promise<IteratorResult<WatchEvent> | "timeout"> {
  let timer: unknown;
  const timeout = new Promise<"timeout">((resolve) => (timer = clock.setTimeout(() => resolve("timeout"), Math.max(0, ms))));
  try {
    return await Promise.race([watch.next(), timeout]);
  } finally {
    clock.clearTimeout(timer);
  }
}
