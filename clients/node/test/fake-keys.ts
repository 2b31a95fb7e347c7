// Keys on top of FakeLocks: get, list, put, delete, add and transactions (compares on version,
// value and absence), keys attached to a session and deleted when it ends, their changes in the
// watch record, and answers remembered by (session, requestId) so that a retry gets the first one.
// `dropNext` makes a route apply a request and drop its answer.
import { fromBase64, toBase64 } from "../src/register";
import type { FakeCluster, Reply, Sent } from "./fake";
import type { FakeLocks } from "./fake-locks";

type Key = { key: string; version: number; value: string; owner: string | null };
type Op = Record<string, any> & { type: string; key: string };

export class FakeKeys {
  readonly store = new Map<string, Key>();
  quota = 10_000;
  readonly dropNext = new Map<string, number>();
  private readonly answers = new Map<string, Reply>();

  constructor(
    private readonly cluster: FakeCluster,
    private readonly locks: FakeLocks,
  ) {
    locks.keysState = (prefix) => this.names(prefix, "").map((n) => ({ ...this.store.get(n)! }));
    cluster.on((req) => this.handle(req));
  }

  /** The session ends: its keys go with `cause`. */
  endSession(session: string, cause: string): void {
    for (const n of this.names("", "")) if (this.store.get(n)!.owner === session) this.remove(n, session, cause);
  }

  private names(prefix: string, after: string): string[] {
    return [...this.store.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
  }

  private handle(req: Sent): Reply | undefined {
    const path = req.path;
    if (!path.startsWith("/api/v1/keys") && path !== "/api/v1/txn" && !(req.method === "DELETE" && path.startsWith("/api/v1/sessions/"))) return undefined;
    if (this.cluster.ids[req.url] !== this.cluster.leader) return undefined;
    if (req.method === "DELETE") {
      this.endSession(decodeURIComponent(path.split("/")[4]), "sessionClosed");
      return undefined; // the default answer
    }
    if (req.method === "GET" && path === "/api/v1/keys") {
      const q = new URLSearchParams(req.search);
      const limit = Number(q.get("limit") ?? 1000);
      const names = this.names(q.get("prefix") ?? "", q.get("after") ?? "");
      const keysOnly = q.get("keysOnly") === "true";
      const keys = names.slice(0, limit).map((n) => ({ ...this.store.get(n)!, ...(keysOnly ? { value: "" } : {}) }));
      return { status: 200, body: { keys, more: names.length > limit, position: `${this.locks.changes.length}.0` } };
    }
    if (req.method === "GET") {
      const key = decodeURIComponent(path.slice("/api/v1/keys/".length));
      const k = this.store.get(key);
      return k ? { status: 200, body: { ...k } } : { status: 404, body: { error: { code: "NOT_FOUND", message: `no key ${key}` } } };
    }
    const memory = `${req.body.session}/${req.body.requestId}`;
    let answer = this.answers.get(memory);
    if (answer === undefined) {
      answer = this.write(path, req.body);
      this.answers.set(memory, answer);
    }
    const drop = this.dropNext.get(path) ?? 0;
    if (drop > 0) {
      this.dropNext.set(path, drop - 1);
      return "drop";
    }
    return answer;
  }

  private write(path: string, body: any): Reply {
    if (path === "/api/v1/txn") return this.txn(body);
    if (path === "/api/v1/keys/delete-prefix") return this.deletePrefix(body);
    const op = { ...body, type: path.slice("/api/v1/keys/".length) } as Op;
    const refused = this.refused(op, body.session);
    if (refused) return refused;
    return { status: 200, body: { key: body.key, ...this.apply(op, body.session) } };
  }

  private refused(op: Op, session: string): Reply | undefined {
    const v = this.store.get(op.key)?.version ?? 0;
    const expected = op.expectedVersion ?? -1;
    if ((op.type === "put" || op.type === "delete") && expected !== -1 && expected !== v) {
      return { status: 409, body: { error: { code: "CONFLICT", message: `${op.key} is at version ${v}, not ${expected}`, currentVersion: v } } };
    }
    if (op.attach && [...this.store.values()].filter((k) => k.owner === session).length >= this.quota) {
      return { status: 429, body: { error: { code: "QUOTA_EXCEEDED", message: `the session has ${this.quota} keys` } } };
    }
    const k = this.store.get(op.key);
    const held = k ? fromBase64(k.value).length : 8;
    if (op.type === "add" && held !== 8) {
      return { status: 400, body: { error: { code: "INVALID_ARGUMENT", message: `${op.key} holds ${held} bytes, not a counter (exactly 8 bytes)` } } };
    }
    return undefined;
  }

  private apply(op: Op, session: string): Record<string, unknown> {
    const old = this.store.get(op.key);
    const v = old?.version ?? 0;
    if (op.type === "get") return old ? { version: v, value: old.value } : { version: 0 };
    if (op.type === "delete") {
      if (old) this.remove(op.key, session, undefined);
      return { version: v };
    }
    if (op.type === "add") {
      const counter = (raw: Uint8Array) => new DataView(raw.buffer, raw.byteOffset, 8);
      const n = (old ? counter(fromBase64(old.value)).getBigInt64(0) : 0n) + BigInt(op.delta);
      const raw = new Uint8Array(8);
      counter(raw).setBigInt64(0, n);
      this.set({ key: op.key, version: v + 1, value: toBase64(raw), owner: old?.owner ?? null }, session);
      return { version: v + 1, value: Number(n), counter: Number(n) };
    }
    const keeps = !(op.attach || op.detach || op.ttlMillis);
    const owner = keeps ? (old?.owner ?? null) : op.attach ? session : null;
    this.set({ key: op.key, version: v + 1, value: op.value, owner }, session);
    return { version: v + 1 };
  }

  private set(k: Key, session: string): void {
    this.store.set(k.key, k);
    this.locks.change({ type: "registerSet", name: k.key, sessionId: session, version: k.version, value: k.value });
  }

  private deletePrefix(body: any): Reply {
    const prefix = String(body.prefix ?? "");
    const limit = Number(body.limit ?? 1000);
    if (prefix === "") {
      return { status: 400, body: { error: { code: "INVALID_ARGUMENT", message: "a prefix delete needs a prefix: deleting every key at once is not offered" } } };
    }
    const names = this.names(prefix, "").slice(0, limit);
    for (const n of names) this.remove(n, body.session, undefined);
    return { status: 200, body: { prefix, deleted: names.length, more: names.length === limit } };
  }

  private remove(key: string, session: string, cause: string | undefined): void {
    const version = this.store.get(key)!.version;
    this.store.delete(key);
    this.locks.change({ type: "registerDeleted", name: key, sessionId: session, version, ...(cause ? { cause } : {}) });
  }

  private holds(c: any): boolean {
    const k = this.store.get(c.key);
    const v = k?.version ?? 0;
    if (c.type === "absent") return !k;
    if (c.type === "value") return !!k && k.value === c.value;
    return { equal: v === c.version, notEqual: v !== c.version, less: v < c.version, greater: v > c.version }[c.order as string] === true;
  }

  private txn(body: any): Reply {
    const succeeded = (body.compares as any[]).every((c) => this.holds(c));
    const branch = succeeded ? "then" : "otherwise";
    const ops = body[branch] as Op[];
    for (let i = 0; i < ops.length; i++) {
      const refused = this.refused(ops[i], body.session);
      if (refused && typeof refused === "object") {
        const error = (refused.body as any).error;
        error.message = `${branch} op ${i + 1}: ${error.message}`;
        return refused;
      }
    }
    const results = ops.map((op) => {
      const r = this.apply(op, body.session);
      if (op.type === "add") delete r.value;
      return r;
    });
    return { status: 200, body: { succeeded, results } };
  }
}
