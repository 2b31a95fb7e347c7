/**
 * Keys (protocol.md, "Keys"): small values that can be deleted, listed and watched by prefix,
 * attached to the session, given a time to live, counted, and changed several at once.
 *
 * Guaranteed: every write carries a request id of the session's ledger, so a write retried after
 * a lost answer applies once (a transaction's branch runs once). A key put with `attach: true` is
 * deleted in the same step as the session ends, and every watcher of it is told `registerDeleted`
 * with the cause (`sessionExpired`, `sessionClosed`); one put with `ttlMs` when that time passes
 * (`leaseTimeout`). Not guaranteed: that the pages of {@link Keys.scan} were read at one point
 * (each page is read where it was read: its `position`).
 */
import { ConflictError, InvalidArgumentError, NotFoundError } from "./errors";
import type { Lease } from "./lease";
import { encodePath, fromBase64, toBase64 } from "./register";
import type { Sessions } from "./renew";
import { checkName, toBytes } from "./validate";
import type { Watch, WatchOptions, WatchTarget } from "./watch";

/** An expected version any version matches: a put or delete without a condition. */
export const ANY_VERSION = -1;
/** The most keys one page lists. */
export const MAX_PAGE = 1000;

/** The refusal of a prefix delete without a prefix, as the server words it. */
export const EMPTY_PREFIX_DELETE = "a prefix delete needs a prefix: deleting every key at once is not offered";
/** The most compares, and ops per branch, of one transaction. */
export const MAX_TXN_OPS = 128;
/** The shortest and longest time to live of a key, in ms (`ttlMs`; 0: none). */
export const MIN_TTL_MS = 1000;
export const MAX_TTL_MS = 30 * 86_400_000;

/** One key as a read, a list or a watch saw it. */
export interface KeyEntry {
  key: string;
  version: number;
  value: Uint8Array;
  /** The value decoded as UTF-8. */
  text: string;
  /** The session the key is attached to; null when none. */
  owner: string | null;
}

/** One page of {@link Keys.list}: keys in byte order, read at `position`. */
export interface KeyListing {
  entries: KeyEntry[];
  /** Whether keys after the last of this page match too. */
  more: boolean;
  /** Where the page was read: a watch from there misses nothing. */
  position: string;
  /** The `after` of the next page; null when there is none. */
  next: string | null;
}

export interface PutOptions {
  /** The version the key must have (0: absent); {@link ANY_VERSION} (the default): any. */
  expectedVersion?: number;
  /** The key belongs to this session: deleted in the same step as the session ends. */
  attach?: boolean;
  /**
   * The key belongs to no session: it lives until deleted (or its `ttlMs`). Without `attach`,
   * `detach` or `ttlMs` a put keeps the key's lifetime: attached to its session (whichever session
   * writes it) or its deadline, as ZooKeeper's setData keeps a node ephemeral.
   */
  detach?: boolean;
  /** The key is deleted this long after the write (1,000 ms to 30 days; 0: never). */
  ttlMs?: number;
  /**
   * The id of another open session of the same identity, a lease (ADR 0006, protocol version 10):
   * the key belongs to it and is deleted in the same step as it ends. Not with `detach` or `ttlMs`;
   * one that is not open is a {@link ConflictError}, nothing written.
   */
  lease?: string;
  signal?: AbortSignal;
}

/** One condition of a transaction, read in the same step as its ops run. */
export type Compare =
  | { type: "version"; key: string; order: "equal" | "notEqual" | "less" | "greater"; version: number }
  | { type: "value"; key: string; value: Uint8Array | string }
  | { type: "absent"; key: string }
  | { type: "fence"; lease: Lease }
  | { type: "holder"; lock: string; sessionId: string }
  | { type: "sessionAlive"; sessionId: string };

/** One op of a transaction's branch; each answers one {@link OpResult}. */
export type Op =
  | { type: "put"; key: string; value: Uint8Array | string; expectedVersion?: number; attach?: boolean; detach?: boolean; ttlMs?: number; lease?: string }
  | { type: "delete"; key: string; expectedVersion?: number }
  | { type: "add"; key: string; delta: number }
  | { type: "get"; key: string };

/** A transaction: when every compare holds, `then` runs, else `otherwise`; all of the branch's ops apply, or none. */
export interface Txn {
  compares?: Compare[];
  then?: Op[];
  otherwise?: Op[];
}

/** A put's new version; a delete's old one (0: absent); an add's new version and `counter`; a get's version and `value` (null: absent). */
export interface OpResult {
  version: number;
  value: Uint8Array | null;
  counter: number;
}

/** Which branch ran (`succeeded`: `then`) and one result per op of it. */
export interface TxnResult {
  succeeded: boolean;
  results: OpResult[];
}

/** A key of an answer (`{"key","version","value","owner"}`). */
export function keyEntry(raw: any): KeyEntry {
  const value = typeof raw?.value === "string" ? fromBase64(raw.value) : new Uint8Array(0);
  return {
    key: String(raw?.key),
    version: Number(raw?.version ?? 0),
    value,
    text: new TextDecoder().decode(value),
    owner: typeof raw?.owner === "string" ? raw.owner : null,
  };
}

/**
 * A counter's value (8 bytes, a signed big-endian 64-bit integer), as {@link Keys.add} writes it;
 * {@link InvalidArgumentError} in the server's words (`K holds N bytes, not a counter (exactly 8
 * bytes)`) for a value of another length.
 */
export function counterOf(entry: KeyEntry): bigint {
  if (entry.value.length !== 8) {
    throw new InvalidArgumentError(`holdfast: ${entry.key} holds ${entry.value.length} bytes, not a counter (exactly 8 bytes)`);
  }
  return new DataView(entry.value.buffer, entry.value.byteOffset, 8).getBigInt64(0);
}

function checkVersion(v: unknown): number {
  if (v === undefined) return ANY_VERSION;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < ANY_VERSION) {
    throw new InvalidArgumentError(`holdfast: expectedVersion is 0 or more, or ANY_VERSION (-1), not ${String(v)}`);
  }
  return v;
}

function putFields(key: string, value: Uint8Array | string, o: Omit<PutOptions, "signal">): Record<string, unknown> {
  const fields: Record<string, unknown> = { key: checkName(key, "key"), value: toBase64(toBytes(value)), expectedVersion: checkVersion(o.expectedVersion) };
  if (o.attach && o.detach) throw new InvalidArgumentError("holdfast: a put attaches or detaches its key, not both");
  if (o.lease !== undefined) {
    if (typeof o.lease !== "string" || o.lease === "") {
      throw new InvalidArgumentError(`holdfast: a lease is the id of an open session, not ${JSON.stringify(o.lease)}`);
    }
    if (o.detach || (o.ttlMs ?? 0) !== 0) {
      throw new InvalidArgumentError("holdfast: a put on a lease lives as long as the lease: no detach, no ttlMs");
    }
    // With attach: a server older than protocol version 10 ignores "lease" and attaches the key to
    // the writer's session rather than keeping it for ever.
    fields.lease = o.lease;
    fields.attach = true;
  }
  if (o.attach) fields.attach = true;
  if (o.detach) fields.detach = true;
  const ttl = o.ttlMs ?? 0;
  if (ttl !== 0) {
    if (!Number.isSafeInteger(ttl) || ttl < MIN_TTL_MS || ttl > MAX_TTL_MS) {
      throw new InvalidArgumentError(`holdfast: a key's ttlMs is 1,000 ms to 30 days, not ${String(ttl)}`);
    }
    fields.ttlMillis = ttl;
  }
  return fields;
}

function compareJson(c: Compare): Record<string, unknown> {
  switch (c.type) {
    case "version":
      return { type: "version", key: checkName(c.key, "key"), order: c.order, version: c.version };
    case "value":
      return { type: "value", key: checkName(c.key, "key"), value: toBase64(toBytes(c.value)) };
    case "absent":
      return { type: "absent", key: checkName(c.key, "key") };
    case "fence":
      return { type: "fence", lock: c.lease.name, token: c.lease.fencingToken };
    case "holder":
      return { type: "holder", lock: checkName(c.lock), sessionId: c.sessionId };
    case "sessionAlive":
      return { type: "sessionAlive", sessionId: c.sessionId };
  }
  throw new InvalidArgumentError(`holdfast: unknown compare ${String((c as { type?: unknown })?.type)}`);
}

function opJson(o: Op): Record<string, unknown> {
  switch (o.type) {
    case "put":
      return { type: "put", ...putFields(o.key, o.value, o) };
    case "delete":
      return { type: "delete", key: checkName(o.key, "key"), expectedVersion: checkVersion(o.expectedVersion) };
    case "add":
      return { type: "add", key: checkName(o.key, "key"), delta: o.delta };
    case "get":
      return { type: "get", key: checkName(o.key, "key") };
  }
  throw new InvalidArgumentError(`holdfast: unknown op ${String((o as { type?: unknown })?.type)}`);
}

function parts<T>(items: T[] | undefined, what: string, json: (t: T) => Record<string, unknown>): Record<string, unknown>[] {
  const list = items ?? [];
  if (list.length > MAX_TXN_OPS) {
    throw new InvalidArgumentError(`holdfast: a transaction takes at most ${MAX_TXN_OPS} ${what}, not ${list.length}`);
  }
  return list.map(json);
}

/** The keys of the cluster, written through this client's session ({@link Client.keys}). */
export class Keys {
  /** @internal Made by {@link Client.keys}. */
  constructor(
    private readonly session: Sessions,
    private readonly watchOf: (target: WatchTarget, options: WatchOptions) => Watch,
  ) {}

  /** The key (linearizable, at the leader); null when it is absent. */
  async get(key: string, options: { signal?: AbortSignal } = {}): Promise<KeyEntry | null> {
    checkName(key, "key");
    try {
      return keyEntry((await this.session.read(`/api/v1/keys/${encodePath(key)}`, options.signal)).body);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /**
   * Writes `value` (bytes, or a string as UTF-8) and resolves with the new version. Rejects with
   * {@link ConflictError} (`currentVersion`) when `expectedVersion` does not hold, and
   * {@link QuotaExceededError} when the session has 10,000 attached keys. A put without `attach`,
   * `detach` or `ttlMs` keeps the key's lifetime (its session, its deadline).
   */
  async put(key: string, value: Uint8Array | string, options: PutOptions = {}): Promise<number> {
    return Number((await this.write("/api/v1/keys/put", putFields(key, value, options), options.signal)).version ?? 0);
  }

  /** Deletes the key; resolves with the version it had (0: absent). Rejects with {@link ConflictError}. */
  async delete(key: string, options: { expectedVersion?: number; signal?: AbortSignal } = {}): Promise<number> {
    const fields = { key: checkName(key, "key"), expectedVersion: checkVersion(options.expectedVersion) };
    return Number((await this.write("/api/v1/keys/delete", fields, options.signal)).version ?? 0);
  }

  /**
   * Deletes every key that starts with `prefix` and resolves with how many (etcd's `DeleteRange`
   * with a prefix). Paged: each page of up to `page` keys is one step on the server (protocol
   * version 9), the whole is not. An empty prefix is refused ({@link InvalidArgumentError}) before
   * anything is sent.
   */
  async deletePrefix(prefix: string, options: { page?: number; signal?: AbortSignal } = {}): Promise<number> {
    if (typeof prefix !== "string" || prefix === "") throw new InvalidArgumentError(`holdfast: ${EMPTY_PREFIX_DELETE}`);
    const page = options.page ?? MAX_PAGE;
    if (!Number.isSafeInteger(page) || page < 1 || page > MAX_PAGE) {
      throw new InvalidArgumentError(`holdfast: page is 1 to ${MAX_PAGE}, not ${String(page)}`);
    }
    let deleted = 0;
    for (;;) {
      const body = await this.write("/api/v1/keys/delete-prefix", { prefix, limit: page }, options.signal);
      deleted += Number(body.deleted ?? 0);
      if (body.more !== true) return deleted;
    }
  }

  /**
   * Adds `delta` to the key's counter in one step (an absent key counts 0) and resolves with the
   * new value. Rejects with {@link InvalidArgumentError} for a key that is not 8 bytes, or an overflow.
   */
  async add(key: string, delta: number, options: { signal?: AbortSignal } = {}): Promise<number> {
    if (!Number.isSafeInteger(delta)) throw new InvalidArgumentError(`holdfast: delta is an integer, not ${String(delta)}`);
    const body = await this.write("/api/v1/keys/add", { key: checkName(key, "key"), delta }, options.signal);
    return Number(body.value ?? 0);
  }

  /**
   * One page of the keys under `prefix` after `after`, in byte order, read at one point at the
   * leader. `keysOnly` (etcd's `--keys-only`): the server sends no values; each entry's value is empty.
   */
  async list(
    prefix = "",
    options: { after?: string; limit?: number; keysOnly?: boolean; signal?: AbortSignal } = {},
  ): Promise<KeyListing> {
    const limit = options.limit ?? MAX_PAGE;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new InvalidArgumentError(`holdfast: limit is 1 to ${MAX_PAGE}, not ${String(limit)}`);
    }
    const query = new URLSearchParams({ prefix, after: options.after ?? "", limit: String(limit) });
    if (options.keysOnly === true) query.set("keysOnly", "true");
    const body = (await this.session.read(`/api/v1/keys?${query}`, options.signal)).body ?? {};
    const entries: KeyEntry[] = (Array.isArray(body.keys) ? body.keys : []).map(keyEntry);
    const more = body.more === true;
    const next = more && entries.length > 0 ? entries[entries.length - 1].key : null;
    return { entries, more, position: String(body.position ?? ""), next };
  }

  /** Every key under `prefix`, page after page (each page read at its own point). */
  async *scan(prefix = "", options: { page?: number; signal?: AbortSignal } = {}): AsyncIterableIterator<KeyEntry> {
    let after = "";
    for (;;) {
      const page = await this.list(prefix, { after, limit: options.page ?? MAX_PAGE, signal: options.signal });
      yield* page.entries;
      if (page.next === null) return;
      after = page.next;
    }
  }

  /** Follows every key under `prefix`: a `state` first (`keys`), then `registerSet` and `registerDeleted` (with `cause`). */
  watch(prefix: string, options: WatchOptions = {}): Watch {
    return this.watchOf({ keys: prefix }, options);
  }

  /**
   * Runs the transaction in one step. Rejects with {@link ConflictError} (or the refusal's own
   * error) when an op of the branch that ran was refused: its message names the branch and the op
   * (`then op 2: ...`), and nothing changed.
   */
  async commit(txn: Txn, options: { signal?: AbortSignal } = {}): Promise<TxnResult> {
    const fields = {
      compares: parts(txn.compares, "compares", compareJson),
      then: parts(txn.then, "then ops", opJson),
      otherwise: parts(txn.otherwise, "otherwise ops", opJson),
    };
    const body = await this.write("/api/v1/txn", fields, options.signal);
    const results: OpResult[] = (Array.isArray(body.results) ? body.results : []).map((r: any) => ({
      version: Number(r?.version ?? 0),
      value: typeof r?.value === "string" ? fromBase64(r.value) : null,
      counter: Number(r?.counter ?? 0),
    }));
    return { succeeded: body.succeeded === true, results };
  }

  /** The group membership of `name`: its members are the keys `<name>/<member>`. */
  group(name: string): Group {
    return new Group(this, checkName(name, "group name"));
  }

  /** @internal The session this client's writes go through (a group member's owner). */
  get sessionId(): string {
    return this.session.id;
  }

  /** @internal The client's sessions (the group recipe joins again through them). */
  get sessions(): Sessions {
    return this.session;
  }

  private async write(path: string, fields: Record<string, unknown>, signal?: AbortSignal): Promise<any> {
    const answer = await this.session.write(path, fields, this.session.defaultTiming(signal));
    return answer.body ?? {};
  }
}

/**
 * Group membership (Curator's `GroupMember`, ZooKeeper's ephemeral children): a member joins with
 * a value under this client's session (the key `<name>/<member>`, attached) and is gone when it
 * leaves or its session ends.
 *
 * A member name belongs to one live session (protocol.md, "Group membership"): a join of a name
 * another live session holds rejects with {@link ConflictError} naming that session (`holder`) and
 * changes nothing; joining again from this session writes the new value; a name whose session
 * ended is free. Failure story: instance `i-17` is started twice by mistake; the second's join is
 * refused (`member i-17 of group services/web is held by session AbC…`), so the first stays
 * registered, and the second's exit deletes nothing of it.
 */
export class Group {
  /** The prefix of the group's keys: `<name>/`. */
  readonly prefix: string;

  /** @internal Made by {@link Keys.group}. */
  constructor(
    private readonly keys: Keys,
    readonly name: string,
  ) {
    this.prefix = name.replace(/\/+$/, "") + "/";
  }

  /**
   * Joins as `member` with `value` (again: a new value); resolves with the key's version. Rejects
   * with {@link ConflictError} (`holder`: the session holding the name) when another session holds it.
   *
   * The client joins it again, with the last value, each time it opens a new session after losing
   * one (unless it left), by the same rule: a name another live session took meanwhile is not
   * taken over; {@link onRejoinFailed} listeners are told instead. A key still held by one of this
   * client's own lost sessions (the service has not expired it yet) is this client's, and is
   * joined again. A join again that fails otherwise (the service unreachable again, the session
   * lost again, a refusal that may pass) is tried again after 100 ms, doubling up to 1 s, until it
   * is written, another session holds the name, the member leaves, the client is closed, or a
   * newer session begins its own rejoins.
   */
  async join(member: string, value: Uint8Array | string = "", options: { signal?: AbortSignal } = {}): Promise<number> {
    const key = this.key(member);
    const sessions = this.keys.sessions;
    for (;;) {
      const me = (await sessions.session(sessions.clock.now() + 3 * sessions.requestTimeoutMs, options.signal)).id;
      const now = await this.keys.get(key, options);
      if (now !== null && now.owner !== me && !sessions.own(now.owner)) {
        const by = now.owner === null ? "no session" : `session ${now.owner}`;
        const group = this.name.replace(/\/+$/, "");
        throw new ConflictError(`member ${member} of group ${group} is held by ${by}`, 409, now.version, now.owner);
      }
      try {
        const version = await this.keys.put(key, value, { attach: true, expectedVersion: now?.version ?? 0, signal: options.signal });
        sessions.joinedMember(this.prefix, member, value);
        return version;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        // changed since the read (joined, left, its session ended): read again
      }
    }
  }

  /**
   * Calls `listener(member, holder)` when a member this client had joined could not be joined
   * again under a new session because another live session (`holder`) holds the name: it is not
   * taken over, nor tried again.
   */
  onRejoinFailed(listener: (member: string, holder: string | null) => void): this {
    this.keys.sessions.onRejoinFailed(this.prefix, listener);
    return this;
  }

  /**
   * Leaves at once (else the member leaves when its session ends); resolves with whether this
   * session was `member` (another session's key is never deleted).
   */
  async leave(member: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const key = this.key(member);
    this.keys.sessions.leftMember(this.prefix, member);
    const now = await this.keys.get(key, options);
    if (now === null || now.owner !== this.keys.sessionId) return false;
    try {
      await this.keys.delete(key, { expectedVersion: now.version, signal: options.signal });
      return true;
    } catch (e) {
      if (e instanceof ConflictError) return false; // written or deleted since the read: no longer this session's
      throw e;
    }
  }

  private key(member: string): string {
    if (typeof member !== "string" || member === "" || member.includes("/")) {
      throw new InvalidArgumentError(`holdfast: a member is a non-empty name without '/', not ${JSON.stringify(member)}`);
    }
    return this.prefix + member;
  }

  /** The live members and their values. */
  async members(options: { signal?: AbortSignal } = {}): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    for await (const e of this.keys.scan(this.prefix, options)) out.set(this.member(e.key), e.value);
    return out;
  }

  /** The member a key (or a watch event's `name`) of this group stands for. */
  member(key: string): string {
    return key.startsWith(this.prefix) ? key.slice(this.prefix.length) : key;
  }

  /** A watch of the members: `state` (`keys`), then `registerSet` (a join) and `registerDeleted` (a leave; `cause` says why). */
  watch(options: WatchOptions = {}): Watch {
    return this.keys.watch(this.prefix, options);
  }
}
