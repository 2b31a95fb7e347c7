/**
 * The conformance driver (clients/CONFORMANCE.md): reads JSON commands, one per line, on standard
 * input, runs each concurrently with this library, and writes one JSON line per answer (and one
 * `{"event":"lost",…}` line per loss callback, one `{"event":"watch",…}` line per event of a watch)
 * on standard output. Logs go to standard error.
 *
 *   node clients/node/dist/conformance-driver.js
 */
import { createInterface } from "node:readline";
import { Client, Compare, HoldfastError, KeyEntry, Leadership, Lease, LeaseSet, LockMode, Op, Watch, WatchEvent } from "./index";

const clients = new Map<string, Client>();
const handles = new Map<string, Lease | LeaseSet>();
const leaderships = new Map<string, Leadership>();
const watches = new Map<string, Watch>();
// Logs on standard error only when asked (HOLDFAST_DRIVER_LOG=1): a parent that never reads the
// pipe must not be able to block the driver.
const verbose = process.env.HOLDFAST_DRIVER_LOG === "1";

/** One line per write call: Node writes a pipe synchronously on Linux, so lines never interleave. */
function emit(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function log(message: string): void {
  if (verbose) process.stderr.write(`[node-driver ${new Date().toISOString()}] ${message}\n`);
}

type Command = Record<string, any> & { id: number | null; op: string };

function client(cmd: Command): Client {
  const c = clients.get(String(cmd.client));
  if (!c) throw new HoldfastDriverError("INVALID_ARGUMENT", `no open client named ${String(cmd.client)}`);
  return c;
}

function handle(cmd: Command, field = "handle"): Lease | LeaseSet {
  const h = handles.get(String(cmd[field]));
  if (!h) throw new HoldfastDriverError("INVALID_ARGUMENT", `no lease named ${String(cmd[field])}`);
  return h;
}

class HoldfastDriverError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function reportLosses(name: string, lease: Lease): void {
  lease.onLost((reason, l) => {
    emit({ event: "lost", handle: name, token: l.fencingToken, reason });
  });
}

async function perform(cmd: Command): Promise<Record<string, unknown>> {
  switch (cmd.op) {
    case "open": {
      const name = String(cmd.client);
      const c = await Client.connect({
        members: cmd.members,
        ttlMs: cmd.ttlMillis ?? undefined,
        clientName: cmd.clientName ?? `node-driver-${name}`,
        log: (m) => log(`${name}: ${m}`),
        renewSessions: cmd.renewSessions ?? undefined,
      });
      if (cmd.sessionEvents === true) {
        c.onSession({
          lost: (oldId, cause) => emit({ event: "session", client: name, type: "lost", sessionId: oldId, cause: cause.message }),
          reestablished: (newId) => emit({ event: "session", client: name, type: "reestablished", sessionId: newId }),
        });
      }
      const previous = clients.get(name);
      clients.set(name, c);
      if (previous) void previous.close().catch(() => {});
      return { sessionId: c.sessionId };
    }
    case "acquire": {
      const c = client(cmd);
      const mode = (cmd.mode ?? "exclusive") as LockMode;
      const lease = await c.acquire(cmd.name, {
        mode,
        permits: mode === "permits" ? cmd.permits ?? 1 : undefined,
        maxPermits: mode === "permits" ? cmd.maxPermits ?? cmd.permits ?? 1 : undefined,
        waitMs: cmd.waitMillis ?? 0,
        leaseMs: cmd.leaseMillis ?? 0,
      });
      const name = String(cmd.handle);
      handles.set(name, lease);
      reportLosses(name, lease);
      return { token: lease.fencingToken };
    }
    case "acquireAll": {
      const c = client(cmd);
      const set = await c.acquireAll(cmd.names, {
        mode: (cmd.mode ?? "exclusive") as LockMode,
        waitMs: cmd.waitMillis ?? 0,
        leaseMs: cmd.leaseMillis ?? 0,
      });
      const name = String(cmd.handle);
      handles.set(name, set);
      for (const l of set.leases) reportLosses(name, l);
      return { tokens: set.tokens };
    }
    case "release": {
      await handle(cmd).release();
      return {};
    }
    case "isValid":
      return { valid: handle(cmd).valid };
    case "registerGet": {
      const v = await client(cmd).register(cmd.key).get();
      return { version: v.version, value: v.text };
    }
    case "registerSet": {
      let fence: Lease | undefined;
      if (cmd.fenceHandle !== undefined && cmd.fenceHandle !== null) {
        const h = handle(cmd, "fenceHandle");
        fence = h instanceof LeaseSet ? h.leases[0] : h;
      }
      const version = await client(cmd).register(cmd.key).compareAndSet(cmd.expectedVersion ?? 0, String(cmd.value ?? ""), { fence });
      return { version };
    }
    case "fenceCheck":
      return { current: await client(cmd).isCurrent(cmd.name, cmd.token) };
    case "watch": {
      const c = client(cmd);
      const name = String(cmd.watch);
      const kinds = ["lock", "prefix", "register", "keys"].filter((k) => cmd[k] !== undefined && cmd[k] !== null);
      if (kinds.length !== 1) throw new HoldfastDriverError("INVALID_ARGUMENT", "a watch names exactly one of lock, prefix, register, keys");
      const w = c.watch({ [kinds[0]]: cmd[kinds[0]] } as any);
      const first = await w.next(); // rejects with the error of a refused watch
      if (first.done) throw new HoldfastDriverError("UNAVAILABLE", "the watch ended before its state");
      emit(watchLine(name, w, first.value));
      watches.get(name)?.close();
      watches.set(name, w);
      void (async () => {
        try {
          for await (const e of w) emit(watchLine(name, w, e));
        } catch (e) {
          const err = errorLine(null, e);
          emit({ event: "watchEnded", watch: name, error: err.error, message: err.message });
        }
      })();
      return {};
    }
    case "unwatch": {
      const w = watches.get(String(cmd.watch));
      if (!w) throw new HoldfastDriverError("INVALID_ARGUMENT", `no watch named ${String(cmd.watch)}`);
      watches.delete(String(cmd.watch));
      w.close();
      return {};
    }
    case "campaign": {
      const leading = await client(cmd).election(cmd.name).campaign(String(cmd.value ?? ""), {
        waitMs: cmd.waitMillis ?? 0,
        leaseMs: cmd.leaseMillis ?? 0,
      });
      const name = String(cmd.handle);
      handles.set(name, leading.lease);
      leaderships.set(name, leading);
      reportLosses(name, leading.lease);
      return { epoch: leading.epoch };
    }
    case "resign": {
      const leading = leaderships.get(String(cmd.handle));
      if (!leading) throw new HoldfastDriverError("INVALID_ARGUMENT", `no leadership named ${String(cmd.handle)}`);
      await leading.resign();
      return {};
    }
    case "leader": {
      const leader = await client(cmd).election(cmd.name).leader();
      return leader ? { epoch: leader.epoch, value: leader.value } : { epoch: 0, value: null };
    }
    case "close": {
      const name = String(cmd.client);
      const c = client(cmd);
      clients.delete(name);
      await c.close();
      return {};
    }
    case "keyGet": {
      const e = await client(cmd).keys().get(cmd.key);
      return e ? keyLine(e) : { version: 0, value: null, owner: null };
    }
    case "keyPut":
      return { version: await client(cmd).keys().put(cmd.key, String(cmd.value ?? ""), putOptions(cmd)) };
    case "keyDelete":
      return { version: await client(cmd).keys().delete(cmd.key, { expectedVersion: cmd.expectedVersion ?? undefined }) };
    case "keyAdd":
      return { value: await client(cmd).keys().add(cmd.key, cmd.delta) };
    case "groupJoin":
      return { version: await client(cmd).keys().group(cmd.group).join(cmd.member, String(cmd.value ?? "")) };
    case "groupLeave":
      return { left: await client(cmd).keys().group(cmd.group).leave(cmd.member) };
    case "keyDeletePrefix":
      return { deleted: await client(cmd).keys().deletePrefix(cmd.prefix ?? "") };
    case "keyList": {
      const page = await client(cmd).keys().list(cmd.prefix ?? "", { after: cmd.after ?? "", limit: cmd.limit ?? undefined });
      return { keys: page.entries.map(keyLine), more: page.more, position: page.position };
    }
    case "txn": {
      const r = await client(cmd).keys().commit({
        compares: (cmd.compares ?? []).map(txnCompare),
        then: (cmd.then ?? []).map(txnOp),
        otherwise: (cmd.otherwise ?? []).map(txnOp),
      });
      const text = (v: Uint8Array | null) => (v === null ? null : new TextDecoder().decode(v));
      return { succeeded: r.succeeded, results: r.results.map((x) => ({ version: x.version, value: text(x.value), counter: x.counter })) };
    }
    default:
      throw new HoldfastDriverError("INVALID_ARGUMENT", `unknown op ${String(cmd.op)}`);
  }
}

function keyLine(e: KeyEntry): Record<string, unknown> {
  return { key: e.key, version: e.version, value: e.text, owner: e.owner };
}

function putOptions(o: Record<string, any>): { expectedVersion?: number; attach: boolean; ttlMs: number; lease?: string } {
  return { expectedVersion: o.expectedVersion ?? undefined, attach: o.attach === true, ttlMs: o.ttlMillis ?? 0, lease: o.lease ?? undefined };
}

/** A compare of a txn command: the protocol's, with values as text and a fence naming a lease handle. */
function txnCompare(c: Record<string, any>): Compare {
  if (c.type === "fence") {
    const h = handle(c as Command);
    return { type: "fence", lease: h instanceof LeaseSet ? h.leases[0] : h };
  }
  return c as Compare;
}

function txnOp(o: Record<string, any>): Op {
  return o.type === "put" ? { type: "put", key: o.key, value: String(o.value ?? ""), ...putOptions(o) } : (o as Op);
}

function watchLine(name: string, w: Watch, e: WatchEvent): Record<string, unknown> {
  const line: Record<string, unknown> = { event: "watch", watch: name, type: e.type, name: e.name, position: e.position };
  if (e.sessionId) line.sessionId = e.sessionId;
  if (e.token) line.token = e.token;
  if (e.mode) line.mode = e.mode;
  if (e.cause) line.cause = e.cause;
  if (e.type === "registerSet" || (e.type === "state" && w.kind === "register")) {
    line.version = e.version;
    line.value = e.value === null ? null : new TextDecoder().decode(e.value);
  } else if (e.type === "registerDeleted") {
    line.version = e.version;
  } else if (e.type === "state" && w.kind === "keys") {
    line.keys = e.keys.map(keyLine);
  } else if (e.type === "state") {
    line.locks = e.locks.map((l) => ({ name: l.name, holders: l.holders.map((h) => h.token), waiters: l.waiters.length }));
  }
  return line;
}

function errorLine(id: number | null, e: unknown): Record<string, unknown> {
  if (e instanceof HoldfastError) return { id, ok: false, error: e.code, message: e.message };
  if (e instanceof HoldfastDriverError) return { id, ok: false, error: e.code, message: e.message };
  const err = e as Error | undefined;
  return { id, ok: false, error: "UNAVAILABLE", message: `${err?.name ?? "Error"}: ${err?.message ?? String(e)}` };
}

async function closeAll(): Promise<void> {
  for (const w of watches.values()) w.close();
  watches.clear();
  const all = [...clients.values()];
  clients.clear();
  await Promise.allSettled(all.map((c) => c.close()));
}

let exiting = false;
/** Commands not yet answered: exit and end of input answer them (closing fails what waits) before exiting. */
const inFlight = new Set<Promise<void>>();

async function drain(ms: number): Promise<void> {
  if (inFlight.size === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled([...inFlight]),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  if (timer) clearTimeout(timer);
}

async function shutdown(): Promise<void> {
  await closeAll();
  await drain(2000);
}

function exit(code: number): void {
  if (exiting) return;
  exiting = true;
  // An empty write's callback runs after everything written before it is flushed.
  process.stdout.write("", () => process.exit(code));
}

function onLine(line: string): void {
  if (line.trim() === "") return;
  let cmd: Command;
  try {
    cmd = JSON.parse(line);
    if (cmd === null || typeof cmd !== "object" || typeof cmd.op !== "string") throw new Error("not a command object");
  } catch (e) {
    let id: number | null = null;
    try {
      const raw = JSON.parse(line);
      if (raw && typeof raw.id === "number") id = raw.id;
    } catch {
      // not JSON at all
    }
    emit({ id, ok: false, error: "INVALID_ARGUMENT", message: `cannot read the command: ${(e as Error).message}` });
    return;
  }
  const id = typeof cmd.id === "number" ? cmd.id : null;
  if (cmd.op === "exit") {
    void shutdown().finally(() => {
      emit({ id, ok: true });
      exit(0);
    });
    return;
  }
  if (verbose) log(`<- ${line}`);
  const done: Promise<void> = perform(cmd).then(
    (result) => emit({ id, ok: true, ...result }),
    (e) => {
      const answer = errorLine(id, e);
      if (verbose) log(`-> ${JSON.stringify(answer)}`);
      emit(answer);
    },
  );
  inFlight.add(done);
  void done.finally(() => inFlight.delete(done));
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
input.on("line", onLine);
input.on("close", () => {
  void shutdown().finally(() => exit(0));
});
