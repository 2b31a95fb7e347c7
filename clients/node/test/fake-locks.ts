// Exclusive locks, registers and their record of changes on top of the scripted FakeCluster: what
// watches and elections need (acquire with waits, release, registers, GET locks/{name} and
// elections/{name}, and GET /api/v1/watch served at every member from one record of changes).
import { proclaimed } from "../src/election";
import { fromBase64 } from "../src/register";
import type { FakeCluster, Reply, Sent } from "./fake";

type Change = Record<string, unknown> & { type: string; name: string; position: string };

export class FakeLocks {
  readonly holders = new Map<string, { session: string; token: number }>();
  readonly registers = new Map<string, { version: number; value: string }>();
  /** The record of changes; the position after changes[i] is `${i + 1}.0`. */
  readonly changes: Change[] = [];
  /** Positions before this index are forgotten: a poll from one answers a gap. */
  private changesFrom = 0;
  private token = 100;
  private wakers: Array<() => void> = [];
  /** Register keys whose writes are refused CONFLICT. */
  readonly refuseKeys = new Set<string>();
  /** Members (by URL) whose watch polls are answered with a dropped connection. */
  readonly down = new Set<string>();
  /** Sessions that ended: their waits are answered 410. */
  private readonly ended = new Set<string>();

  constructor(private readonly cluster: FakeCluster) {
    cluster.on((req) => this.handle(req));
  }

  /** The session ends: a wait of it is answered `410 SESSION_EXPIRED`. */
  endSession(session: string): void {
    this.ended.add(session);
    for (const w of this.wakers.splice(0)) w();
  }

  revoke(name: string): void {
    const h = this.holders.get(name);
    if (!h) return;
    this.holders.delete(name);
    this.change({ type: "released", name, sessionId: h.session, token: h.token, mode: "exclusive", cause: "revoked" });
  }

  /** Forgets the record (as a member that restarted): the next poll from an older position gaps. */
  forgetChanges(): void {
    this.change({ type: "_snapshot", name: "" });
    this.changesFrom = this.changes.length;
  }

  /** The keys a keys watch's state lists (set by FakeKeys). */
  keysState: (prefix: string) => unknown[] = () => [];

  /** The most keys of a keys watch's state (`more` beyond, as the server cuts one to fit a frame); undefined: all. */
  stateLimit: number | undefined;

  /** Records a change for the watches and wakes them. */
  change(c: Record<string, unknown> & { type: string; name: string }): void {
    this.changes.push({ ...c, position: `${this.changes.length + 1}.0` });
    for (const w of this.wakers.splice(0)) w();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.wakers.push(resolve));
  }

  private lockView(name: string): unknown {
    const h = this.holders.get(name);
    if (!h) return undefined;
    return { name, semaphore: false, maxPermits: 1, waiters: [], holders: [{ sessionId: h.session, token: h.token, mode: "exclusive", permits: 1, clientName: "fake" }] };
  }

  private handle(req: Sent): Reply | Promise<Reply> | undefined {
    const path = req.path;
    const body = req.body;
    if (path === "/api/v1/watch") return this.watch(req);
    if (this.cluster.ids[req.url] !== this.cluster.leader) return undefined; // NOT_LEADER by default
    if (path === "/api/v1/acquire") return this.acquire(body, req.signal);
    if (path === "/api/v1/release") {
      const h = this.holders.get(body.name);
      if (!h || h.session !== body.session || h.token !== body.token) return { status: 409, body: { error: { code: "NOT_OWNER", message: "not held" } } };
      this.holders.delete(body.name);
      this.change({ type: "released", name: body.name, sessionId: body.session, token: body.token, mode: "exclusive", cause: "released" });
      return { status: 200, body: { name: body.name, released: true } };
    }
    if (path === "/api/v1/registers/set") {
      const r = this.registers.get(body.key) ?? { version: 0, value: "" };
      if (r.version !== body.expectedVersion || this.refuseKeys.has(body.key)) return { status: 409, body: { error: { code: "CONFLICT", message: `${body.key} is at version ${r.version}, not ${body.expectedVersion}`, currentVersion: r.version } } };
      if (body.fenceName !== undefined) {
        const h = this.holders.get(body.fenceName);
        if (!h || h.token !== body.fenceToken) return { status: 409, body: { error: { code: "CONFLICT", message: "the fence is not current" } } };
      }
      this.registers.set(body.key, { version: r.version + 1, value: body.value });
      this.change({ type: "registerSet", name: body.key, sessionId: body.session, version: r.version + 1, value: body.value });
      return { status: 200, body: { key: body.key, version: r.version + 1 } };
    }
    if (path.startsWith("/api/v1/registers/")) {
      const key = decodeURIComponent(path.slice("/api/v1/registers/".length));
      const r = this.registers.get(key);
      if (!r) return { status: 404, body: { error: { code: "NOT_FOUND", message: `no register ${key}` } } };
      return { status: 200, body: { key, version: r.version, value: r.value } };
    }
    if (path.startsWith("/api/v1/locks/")) {
      const view = this.lockView(decodeURIComponent(path.slice("/api/v1/locks/".length)));
      return view ? { status: 200, body: { lock: view } } : { status: 404, body: { error: { code: "NOT_FOUND", message: "no such lock" } } };
    }
    if (path.startsWith("/api/v1/elections/")) {
      const name = decodeURIComponent(path.slice("/api/v1/elections/".length));
      const h = this.holders.get(name);
      const r = this.registers.get(name);
      if (!h) return { status: 404, body: { error: { code: "NOT_FOUND", message: `nobody leads ${name}` } } };
      const found = proclaimed(r ? new TextDecoder().decode(fromBase64(r.value)) : null);
      const value = found && found.epoch === h.token ? found.value : null; // null: not proclaimed yet
      return { status: 200, body: { election: { name, epoch: h.token, value, sessionId: h.session } } };
    }
    return undefined;
  }

  private async acquire(body: any, signal: AbortSignal | undefined): Promise<Reply> {
    const end = Date.now() + (body.waitMillis ?? 0);
    let queued = false;
    while (this.holders.has(body.name)) {
      if (signal?.aborted) return "drop";
      if (this.ended.has(body.session)) return { status: 410, body: { error: { code: "SESSION_EXPIRED", message: `session ${body.session} is gone` } } };
      const left = end - Date.now();
      if (left <= 0) {
        if (queued) this.change({ type: "waitEnded", name: body.name, sessionId: body.session, mode: "exclusive", cause: "timedOut" });
        return { status: 409, body: { error: { code: "TIMEOUT", message: `${body.name} was not granted` } } };
      }
      if (!queued) {
        queued = true;
        this.change({ type: "queued", name: body.name, sessionId: body.session, mode: "exclusive" });
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.changed(), new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    const token = ++this.token;
    this.holders.set(body.name, { session: body.session, token });
    this.change({ type: "acquired", name: body.name, sessionId: body.session, token, mode: "exclusive" });
    return { status: 200, body: { name: body.name, granted: true, token, requestId: body.requestId } };
  }

  private async watch(req: Sent): Promise<Reply> {
    const q = new URLSearchParams(req.search);
    const kinds = ["lock", "prefix", "register", "keys"].filter((k) => q.has(k));
    if (kinds.length !== 1) return { status: 400, body: { error: { code: "INVALID_ARGUMENT", message: "one target" } } };
    const kind = kinds[0];
    const name = q.get(kind)!;
    if (name.startsWith("secret/")) return { status: 403, body: { error: { code: "PERMISSION_DENIED", message: `may not read ${name}` } } };
    const isKey = (c: Change) => c.type === "registerSet" || c.type === "registerDeleted";
    const concerns = (c: Change) =>
      c.type !== "_snapshot" &&
      (kind === "register"
        ? c.type === "registerSet" && c.name === name
        : kind === "keys"
          ? isKey(c) && c.name.startsWith(name)
          : !isKey(c) && (kind === "lock" ? c.name === name : c.name.startsWith(name)));
    const afterText = q.get("after");
    const after = afterText === null ? undefined : Number(afterText.split(".")[0]);
    const end = Date.now() + Number(q.get("waitMillis") ?? 20000);
    for (;;) {
      if (this.down.has(req.url) || req.signal?.aborted) return "drop";
      const next = `${this.changes.length}.0`;
      if (after === undefined || after < this.changesFrom) {
        const answer: Record<string, unknown> = { watch: kind, name, gap: true, next, events: [] };
        if (kind === "keys") {
          answer.keys = this.keysState(name);
          const all = answer.keys as unknown[];
          if (this.stateLimit !== undefined && all.length > this.stateLimit) {
            answer.keys = all.slice(0, this.stateLimit);
            answer.more = true;
          }
        } else if (kind === "register") {
          const r = this.registers.get(name);
          answer.register = { key: name, version: r?.version ?? 0, value: r?.value ?? null };
        } else {
          answer.locks = [...this.holders.keys()].filter((n) => (kind === "lock" ? n === name : n.startsWith(name))).map((n) => this.lockView(n));
        }
        return { status: 200, body: answer };
      }
      const events = this.changes.slice(after).filter(concerns);
      const left = end - Date.now();
      if (events.length > 0 || left <= 0) return { status: 200, body: { watch: kind, name, gap: false, next, events } };
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.changed(), new Promise((r) => (timer = setTimeout(r, Math.min(left, 200))))]);
      clearTimeout(timer);
    }
  }
}
