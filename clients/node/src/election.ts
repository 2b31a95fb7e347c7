/**
 * Leader election (docs/elections.md), composed from locks and registers like the Java client's.
 *
 * Who leads is the holder of the lock of the election's name; what the leader proclaims is the
 * register of the same name, holding `"<epoch>:<value>"` (UTF-8), written by compare-and-set
 * fenced by the leadership's grant. The epoch is the grant's fencing token.
 *
 * Guaranteed: at most one valid leadership of a name at a time (the lock's guarantee); each new
 * leadership has a higher epoch than every earlier one; a deposed leader's fenced writes are
 * refused (fence them with `leadership.lease`). Not guaranteed: that a leader learns of its loss
 * before the next one is elected (a process paused past its session TTL acts on until it runs
 * again): fence the writes that matter.
 *
 * A failure it handles: a candidate is elected but its proclamation fails (no member answers, or
 * its grant is revoked meanwhile); the campaign then releases the lock, so that no silent leader
 * is left behind, and rejects.
 */
import type { Client } from "./client";
import { InvalidArgumentError, NotFoundError, SessionExpiredError, UnavailableError } from "./errors";
import type { LossReason } from "./events";
import type { Lease } from "./lease";
import { encodePath } from "./register";
import type { Sessions } from "./renew";
import { checkName } from "./validate";
import type { Watch, WatchEvent } from "./watch";

(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for("Symbol.asyncDispose");

/** The most bytes of UTF-8 a leader may proclaim (a register holds 64 KiB; the epoch goes first). */
export const MAX_VALUE_BYTES = 32 * 1024;

/** Who leads: the leadership's epoch and what it proclaimed (null: elected a moment ago, not proclaimed yet). */
export interface Leader {
  election: string;
  epoch: number;
  value: string | null;
}

export interface CampaignOptions {
  /** How long to wait to be elected, in ms; 0 (default): try once. */
  waitMs?: number;
  /** A lease timeout for the leadership's grant (renewed by the library); 0 (default): none. */
  leaseMs?: number;
  /** Gives the candidacy up (the wait is withdrawn). */
  signal?: AbortSignal;
}

/** The largest epoch: a fencing token is a signed 64-bit number. */
const MAX_EPOCH = 2n ** 63n - 1n;

/**
 * Reads an election record, `"<epoch>:<value>"` (docs/protocol.md): the epoch in ASCII digits, at
 * most 2^63 - 1 (a JavaScript number, exact up to 2^53); the value everything after the first
 * colon. Undefined if the text is not one (clients/vectors/records.json lists the cases).
 */
export function proclaimed(text: string | null): { epoch: number; value: string } | undefined {
  if (text === null) return undefined;
  const colon = text.indexOf(":");
  const digits = text.slice(0, colon);
  if (colon <= 0 || !/^[0-9]+$/.test(digits) || BigInt(digits) > MAX_EPOCH) return undefined;
  return { epoch: Number(digits), value: text.slice(colon + 1) };
}

/** A won campaign: its epoch (the grant's fencing token), its value, and the lease to fence writes with. */
export class Leadership {
  /** @internal Made by {@link Election.campaign}. */
  constructor(
    readonly election: string,
    readonly value: string,
    readonly lease: Lease,
  ) {}

  get epoch(): number {
    return this.lease.fencingToken;
  }

  /** True until resigned or lost. */
  get valid(): boolean {
    return this.lease.valid;
  }

  /** Called once if the leadership is lost (session expired, revoked); not when it resigns. */
  onLost(callback: (reason: LossReason, leadership: Leadership) => void): this {
    this.lease.onLost((reason) => callback(reason, this));
    return this;
  }

  /** Gives the leadership up (releases the lock): the next candidate leads. Idempotent. */
  resign(): Promise<void> {
    return this.lease.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.resign();
  }
}

type Pending = { resolve: (r: IteratorResult<Leader | null>) => void; reject: (e: unknown) => void };

/**
 * What {@link Election.observe} returns: `for await (const leader of observation)`, who leads
 * (null: nobody) as the Java client's `Election.observe` tells it: who leads now, then each change
 * in epoch order (a new leader, its value null until it writes it, then again with it; null once it
 * is gone). Epochs never go back.
 *
 * It merges two watches ({@link Client.watch}), of the election's lock and of its register, and
 * has their guarantees: no leadership is missed across a reconnection. Iteration ends once it is
 * closed ({@link close}, `break`, the options' signal) and rejects with the error that ended a
 * watch otherwise.
 */
export class Observation implements AsyncIterableIterator<Leader | null> {
  private readonly watches: Watch[];
  private readonly buffer: Array<Leader | null> = [];
  private readonly pending: Pending[] = [];
  private done = false;
  private error: unknown;
  /** The current leadership's epoch; 0: nobody leads. */
  private epoch = 0;
  /** Nothing is told before the lock's state (nobody may seem to lead). */
  private lockKnown = false;
  /** The newest proclamation the register showed. */
  private newest: { epoch: number; value: string } | undefined;
  /** What was told last; undefined before the first. */
  private told: Leader | null | undefined;

  /** @internal Made by {@link Election.observe}. */
  constructor(
    client: Client,
    readonly election: string,
    options: { signal?: AbortSignal } = {},
  ) {
    const lock = client.watch({ lock: election }, options);
    try {
      this.watches = [lock, client.watch({ register: election }, options)];
    } catch (e) {
      lock.close();
      throw e;
    }
    void this.follow(this.watches[0], (event) => this.lockEvent(event));
    void this.follow(this.watches[1], (event) => this.registerEvent(event));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Leader | null>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  /** `break` in a `for await` loop closes the observation. */
  return(): Promise<IteratorResult<Leader | null>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops the observation (both watches): iteration ends. Idempotent. */
  close(): void {
    this.end(undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  private async follow(watch: Watch, onEvent: (event: WatchEvent) => void): Promise<void> {
    try {
      for await (const event of watch) onEvent(event);
      this.end(undefined);
    } catch (e) {
      this.end(e);
    }
  }

  private lockEvent(event: WatchEvent): void {
    if (event.type === "state") {
      const held = event.locks.find((l) => l.name === this.election && l.holders.length > 0);
      this.epoch = held ? held.holders[0].token : 0;
    } else if (event.type === "acquired") {
      this.epoch = Math.max(this.epoch, event.token);
    } else if (event.type === "released") {
      if (event.token === this.epoch) this.epoch = 0;
    } else {
      return;
    }
    this.lockKnown = true;
    this.tell();
  }

  private registerEvent(event: WatchEvent): void {
    const found = proclaimed(event.value === null ? null : new TextDecoder().decode(event.value));
    if (!found || (this.newest && found.epoch < this.newest.epoch)) return;
    this.newest = found;
    if (this.lockKnown) this.tell();
  }

  private tell(): void {
    const value = this.newest?.epoch === this.epoch ? this.newest.value : null;
    const now: Leader | null = this.epoch === 0 ? null : { election: this.election, epoch: this.epoch, value };
    const told = this.told;
    if (told !== undefined) {
      if (now === null ? told === null : told !== null && now.epoch === told.epoch && now.value === told.value) return;
      if (now !== null && told !== null && now.epoch < told.epoch) return; // never back in epochs
    }
    this.told = now;
    const waiting = this.pending.shift();
    if (waiting) waiting.resolve({ value: now, done: false });
    else this.buffer.push(now);
  }

  private end(error: unknown): void {
    if (this.done) return;
    this.done = true;
    for (const w of this.watches) w.close();
    if (error === undefined) this.buffer.length = 0;
    else this.error = error;
    for (const p of this.pending.splice(0)) {
      if (error === undefined) p.resolve({ value: undefined, done: true });
      else p.reject(error);
    }
  }
}

/** The election of one name ({@link Client.election}); nothing is sent until it is used. */
export class Election {
  /** @internal */
  constructor(
    private readonly client: Client,
    private readonly session: Sessions,
    readonly name: string,
  ) {
    checkName(name, "election name");
  }

  /**
   * Campaigns until elected (within `waitMs`), then proclaims `value`. Rejects with
   * {@link LockTimeoutError} when not elected in time (the candidacy is withdrawn), and with the
   * errors of an acquire or a register write (the lock is then released).
   */
  async campaign(value: string, options: CampaignOptions = {}): Promise<Leadership> {
    if (typeof value !== "string") throw new InvalidArgumentError('holdfast: the value is a string ("" for none)');
    if (new TextEncoder().encode(value).length > MAX_VALUE_BYTES) {
      throw new InvalidArgumentError(`holdfast: the value is over ${MAX_VALUE_BYTES} bytes of UTF-8`);
    }
    const lease = await this.campaignAcquire(options);
    try {
      const register = this.client.register(this.name);
      const { version } = await register.get();
      await register.compareAndSet(version, `${lease.fencingToken}:${value}`, { fence: lease });
    } catch (e) {
      await lease.release().catch((r) => this.session.log(`release of ${this.name} after a failed proclamation: ${(r as Error).message}`));
      throw e;
    }
    return new Leadership(this.name, value, lease);
  }

  /**
   * The acquire of a campaign. A campaign whose session is lost while it waits campaigns again
   * under the next session, within what is left of its wait (unless the client opted out of
   * renewing sessions).
   */
  private async campaignAcquire(options: CampaignOptions): Promise<Lease> {
    const s = this.session;
    const deadline = s.clock.now() + (options.waitMs ?? 0);
    for (;;) {
      const before = s.id;
      try {
        return await this.client.acquire(this.name, {
          waitMs: Math.max(0, deadline - s.clock.now()),
          leaseMs: options.leaseMs,
          signal: options.signal,
        });
      } catch (e) {
        const lostSession = e instanceof SessionExpiredError || e instanceof UnavailableError;
        if (!lostSession || options.signal?.aborted || s.endedError() || s.clock.now() >= deadline) throw e;
        if (!s.renewing && s.id === before) throw e; // the acquire's own failure, not a lost session
        s.log(`campaign for ${this.name}: session lost; campaigning again`);
      }
    }
  }

  /** Follows who leads: see {@link Observation}. Throws as {@link Client.watch} does. */
  observe(options: { signal?: AbortSignal } = {}): Observation {
    return new Observation(this.client, this.name, options);
  }

  /**
   * Who leads now, or null. Read at the leader in one request, `GET /api/v1/elections/{name}`,
   * whose value is null while the leader has not proclaimed it.
   */
  async leader(options: { signal?: AbortSignal } = {}): Promise<Leader | null> {
    let e: any;
    try {
      e = (await this.session.read(`/api/v1/elections/${encodePath(this.name)}`, options.signal)).body?.election;
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
    if (!e || typeof e.epoch !== "number") {
      throw new UnavailableError(`holdfast: the answer of GET /api/v1/elections/${this.name} names no election`);
    }
    return { election: this.name, epoch: e.epoch, value: e.value ?? null };
  }
}
