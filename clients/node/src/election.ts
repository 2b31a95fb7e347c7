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
import { InvalidArgumentError, NotFoundError, UnavailableError } from "./errors";
import type { LossReason } from "./events";
import type { Lease } from "./lease";
import { encodePath } from "./register";
import type { Session } from "./session";
import { checkName } from "./validate";

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

/** The election of one name ({@link Client.election}); nothing is sent until it is used. */
export class Election {
  /** @internal */
  constructor(
    private readonly client: Client,
    private readonly session: Session,
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
    const lease = await this.client.acquire(this.name, { waitMs: options.waitMs, leaseMs: options.leaseMs, signal: options.signal });
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
