/**
 * The conformance driver (clients/CONFORMANCE.md): reads JSON commands, one per line, on standard
 * input, runs each concurrently with this library, and writes one JSON line per answer (and one
 * `{"event":"lost",…}` line per loss callback) on standard output. Logs go to standard error.
 *
 *   node clients/node/dist/conformance-driver.js
 */
import { createInterface } from "node:readline";
import { Client, HoldfastError, Lease, LeaseSet, LockMode } from "./index";

const clients = new Map<string, Client>();
const handles = new Map<string, Lease | LeaseSet>();
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

function watch(name: string, lease: Lease): void {
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
      });
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
      watch(name, lease);
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
      for (const l of set.leases) watch(name, l);
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
    case "close": {
      const name = String(cmd.client);
      const c = client(cmd);
      clients.delete(name);
      await c.close();
      return {};
    }
    default:
      throw new HoldfastDriverError("INVALID_ARGUMENT", `unknown op ${String(cmd.op)}`);
  }
}

function errorLine(id: number | null, e: unknown): Record<string, unknown> {
  if (e instanceof HoldfastError) return { id, ok: false, error: e.code, message: e.message };
  if (e instanceof HoldfastDriverError) return { id, ok: false, error: e.code, message: e.message };
  const err = e as Error | undefined;
  return { id, ok: false, error: "UNAVAILABLE", message: `${err?.name ?? "Error"}: ${err?.message ?? String(e)}` };
}

async function closeAll(): Promise<void> {
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
