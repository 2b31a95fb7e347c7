// The client against a scripted in-memory cluster (no server): sessions, request ids, losses.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Client, ClientOptions } from "../src/client";
import { ConflictError, LockLostError, SessionExpiredError } from "../src/errors";
import { FakeCluster } from "./fake";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** Runs `body` with a client of `cluster` (member http://a, `options` added), closed after it. */
async function withClient(cluster: FakeCluster, body: (client: Client) => Promise<void>, options: Partial<ClientOptions> = {}): Promise<void> {
  const client = await Client.connect({ members: ["http://a"], fetch: cluster.fetch, ...options });
  try {
    await body(client);
  } finally {
    await client.close();
  }
}

function granting(cluster: FakeCluster): void {
  let token = 100;
  cluster.on((req) => (req.path === "/api/v1/acquire" ? { status: 200, body: { name: req.body.name, granted: true, token: ++token, requestId: req.body.requestId } } : undefined));
}

test("open: a client-chosen session id, the name and TTL; heartbeats every TTL/3", async () => {
  const cluster = new FakeCluster();
  await withClient(cluster, async (client) => {
    const open = cluster.sent.find((s) => s.path === "/api/v1/sessions")!;
    assert.equal(open.body.clientName, "billing@host-3");
    assert.equal(open.body.ttlMillis, 1200);
    assert.match(open.body.sessionId, /^[A-Za-f][A-Za-z0-9_-]{21}$/, "the one form of session ids: 22 characters");
    assert.equal(client.sessionId, open.body.sessionId);
    await delay(950);
    const beats = cluster.sent.filter((s) => s.path.endsWith("/keepalive"));
    assert.ok(beats.length >= 2 && beats.length <= 3, `${beats.length} heartbeats in 950 ms`);
    assert.equal(client.expired, false);
  }, { ttlMs: 1200, clientName: "billing@host-3" });
});

test("acquire and release carry requestId and ackedBelow; release sends the token", async () => {
  const cluster = new FakeCluster();
  granting(cluster);
  await withClient(cluster, async (client) => {
    const lease = await client.acquire("jobs/nightly", { waitMs: 1000 });
    assert.equal(lease.name, "jobs/nightly");
    assert.equal(lease.fencingToken, 101);
    assert.equal(lease.valid, true);
    const acq = cluster.sent.find((s) => s.path === "/api/v1/acquire")!;
    assert.equal(acq.body.session, client.sessionId);
    assert.equal(acq.body.requestId, 1);
    assert.equal(acq.body.ackedBelow, 1);
    assert.equal(acq.body.waitMillis, 1000);
    assert.equal(acq.body.mode, "exclusive");
    await lease.release();
    await lease.release(); // idempotent
    assert.equal(lease.valid, false);
    const rel = cluster.sent.filter((s) => s.path === "/api/v1/release");
    assert.equal(rel.length, 1);
    assert.deepEqual({ ...rel[0].body, session: "-" }, { session: "-", requestId: 2, ackedBelow: 2, name: "jobs/nightly", token: 101 });
  });
});

test("a lost answer: the same acquire (same requestId) is sent again, and one lease results", async () => {
  const cluster = new FakeCluster();
  let first = true;
  cluster.on((req) => {
    if (req.path !== "/api/v1/acquire") return undefined;
    if (first) {
      first = false;
      return "drop";
    }
    return { status: 200, body: { name: req.body.name, granted: true, token: 7, requestId: req.body.requestId } };
  });
  await withClient(cluster, async (client) => {
    const lease = await client.acquire("a", { waitMs: 100 });
    assert.equal(lease.fencingToken, 7);
    const tries = cluster.sent.filter((s) => s.path === "/api/v1/acquire");
    assert.equal(tries.length, 2);
    assert.equal(tries[0].raw, tries[1].raw);
  });
});

test("a lost event reaches the callback at once, once, and the lease turns invalid", async () => {
  const cluster = new FakeCluster();
  granting(cluster);
  await withClient(cluster, async (client) => {
    const lease = await client.acquire("a");
    const calls: string[] = [];
    lease.onLost((reason) => calls.push(reason));
    const t0 = Date.now();
    cluster.push({ type: "lost", name: "a", token: lease.fencingToken, reason: "revoked" });
    await waitUntil("the callback", () => calls.length > 0);
    assert.ok(Date.now() - t0 < 500);
    assert.deepEqual(calls, ["revoked"]);
    assert.equal(lease.valid, false);
    assert.equal(lease.lostReason, "revoked");
    cluster.push({ type: "lost", name: "a", token: lease.fencingToken, reason: "revoked" });
    await delay(50);
    assert.deepEqual(calls, ["revoked"], "called once");
    await lease.release(); // not an error after a loss
    assert.equal(cluster.count("/api/v1/release"), 0);
    const late: string[] = [];
    lease.onLost((r) => late.push(r));
    await delay(1);
    assert.deepEqual(late, ["revoked"], "a callback registered after the loss is called too");
  });
});

test("a loss reported before the grant's answer arrives still marks the lease", async () => {
  const cluster = new FakeCluster();
  cluster.on(async (req) => {
    if (req.path !== "/api/v1/acquire") return undefined;
    cluster.push({ type: "lost", name: "a", token: 5, reason: "leaseTimeout" });
    await delay(100);
    return { status: 200, body: { name: "a", granted: true, token: 5, requestId: req.body.requestId } };
  });
  await withClient(cluster, async (client) => {
    const lease = await client.acquire("a", { leaseMs: 3000 });
    assert.equal(lease.valid, false);
    assert.equal(lease.lostReason, "leaseTimeout");
  });
});

test("a gap: a held grant that the state does not list is lost as unknown", async () => {
  const cluster = new FakeCluster();
  granting(cluster);
  await withClient(cluster, async (client) => {
    const a = await client.acquire("a");
    const b = await client.acquire("b");
    const reasons: string[] = [];
    a.onLost((r) => reasons.push(`a:${r}`));
    b.onLost((r) => reasons.push(`b:${r}`));
    await delay(20); // the poll in flight was sent after both grants
    cluster.sent.length = 0;
    // The poll now waiting was sent before? Make sure a fresh poll is pending, then answer with a gap.
    cluster.push({ type: "granted", name: "zzz", token: 1, requestId: 99 });
    await delay(20);
    cluster.gap({ exists: true, holds: [{ name: "a", token: a.fencingToken, mode: "exclusive", permits: 1 }], waits: [] });
    await waitUntil("the loss of b", () => reasons.length > 0);
    assert.deepEqual(reasons, ["b:unknown"]);
    assert.equal(a.valid, true);
    assert.equal(b.valid, false);
    cluster.gap({ exists: false, holds: [], waits: [] });
    await waitUntil("the expiry", () => client.expired);
    assert.deepEqual(reasons, ["b:unknown", "a:sessionExpired"]);
    await assert.rejects(client.acquire("c"), SessionExpiredError);
  }, { renewSessions: false }); // the client ends with its session (test/renew.test.ts renews)
});

test("heartbeats unanswered for a whole TTL: the session expires locally and every lease is lost", async () => {
  const cluster = new FakeCluster();
  granting(cluster);
  let failing = false;
  cluster.on((req) => (failing && req.path.endsWith("/keepalive") ? "refuse" : undefined));
  await withClient(cluster, async (client) => {
    const lease = await client.acquire("a");
    const reasons: string[] = [];
    lease.onLost((r) => reasons.push(r));
    const t0 = Date.now();
    failing = true;
    await waitUntil("the expiry", () => client.expired, 3000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed <= 1100, `expired ${elapsed} ms after the heartbeats stopped`);
    assert.deepEqual(reasons, ["sessionExpired"]);
    assert.equal(lease.valid, false);
    await assert.rejects(client.acquire("b"), SessionExpiredError);
  }, { ttlMs: 1000, requestTimeoutMs: 200, renewSessions: false });
});

test("410 on a heartbeat expires the session", async () => {
  const cluster = new FakeCluster();
  cluster.on((req) => (req.path.endsWith("/keepalive") ? { status: 410, body: { error: { code: "SESSION_EXPIRED", message: "session s expired" } } } : undefined));
  const client = await Client.connect({ members: ["http://a"], ttlMs: 1000, fetch: cluster.fetch, renewSessions: false });
  let expired: Error | undefined;
  client.onExpired((e) => (expired = e));
  await waitUntil("the expiry", () => client.expired, 2000);
  assert.equal(expired?.message, "session s expired");
  await client.close();
});

test("aborting a wait cancels it with waitRequestId and releases a grant the cancel reports", async () => {
  const cluster = new FakeCluster();
  cluster.on((req) => (req.path === "/api/v1/acquire" ? "hang" : undefined));
  cluster.on((req) =>
    req.path === "/api/v1/cancel" ? { status: 200, body: { name: req.body.name, cancelled: false, token: 77 } } : undefined,
  );
  await withClient(cluster, async (client) => {
    const controller = new AbortController();
    const pending = client.acquire("a", { waitMs: 30_000, signal: controller.signal });
    await delay(30);
    controller.abort();
    await assert.rejects(pending, (e: any) => e?.name === "AbortError");
    const acq = cluster.sent.find((s) => s.path === "/api/v1/acquire")!;
    const cancel = cluster.sent.find((s) => s.path === "/api/v1/cancel")!;
    assert.equal(cancel.body.waitRequestId, acq.body.requestId);
    assert.equal(cancel.body.name, "a");
    assert.equal(cancel.body.ackedBelow, acq.body.requestId, "the acquire stays outstanding until the cancel is answered");
    const rel = cluster.sent.find((s) => s.path === "/api/v1/release")!;
    assert.deepEqual([rel.body.name, rel.body.token], ["a", 77]);
    assert.ok(rel.body.ackedBelow > acq.body.requestId, "settled once the cancel was answered");
  });
});

test("a lease with a timeout is renewed every leaseMs/3; NOT_OWNER on a renew is a loss", async () => {
  const cluster = new FakeCluster();
  granting(cluster);
  let owner = true;
  cluster.on((req) =>
    req.path === "/api/v1/renew" && !owner ? { status: 409, body: { error: { code: "NOT_OWNER", message: "not held" } } } : undefined,
  );
  await withClient(cluster, async (client) => {
    const lease = await client.acquire("a", { leaseMs: 300 });
    await delay(350);
    const renews = cluster.sent.filter((s) => s.path === "/api/v1/renew");
    assert.ok(renews.length >= 2 && renews.length <= 4, `${renews.length} renews in 350 ms`);
    assert.deepEqual([renews[0].body.name, renews[0].body.token], ["a", lease.fencingToken]);
    const reasons: string[] = [];
    lease.onLost((r) => reasons.push(r));
    owner = false;
    await waitUntil("the loss", () => reasons.length > 0);
    assert.deepEqual(reasons, ["unknown"]);
    assert.equal(lease.valid, false);
  });
});

test("LOCK_LOST answers reject with LockLostError and leave nothing held", async () => {
  const cluster = new FakeCluster();
  cluster.on((req) => (req.path === "/api/v1/acquire" ? { status: 409, body: { error: { code: "LOCK_LOST", message: "a was lost before the answer", token: 9 } } } : undefined));
  await withClient(cluster, async (client) => {
    await assert.rejects(client.acquire("a", { waitMs: 10 }), (e: unknown) => e instanceof LockLostError && e.token === 9);
  });
});

test("acquireAll: one lease per name; semaphores send permits and maxPermits", async () => {
  const cluster = new FakeCluster();
  cluster.on((req) =>
    req.path === "/api/v1/acquire-all"
      ? { status: 200, body: { granted: true, requestId: req.body.requestId, locks: [{ name: "a", token: 43 }, { name: "b", token: 44 }] } }
      : undefined,
  );
  granting(cluster);
  await withClient(cluster, async (client) => {
    const set = await client.acquireAll(["b", "a"], { waitMs: 5 });
    assert.deepEqual(set.tokens, { a: 43, b: 44 });
    assert.deepEqual(cluster.sent.find((s) => s.path === "/api/v1/acquire-all")!.body.names, ["b", "a"]);
    const sem = await client.semaphore("pool", 2, 5);
    const body = cluster.sent.find((s) => s.path === "/api/v1/acquire")!.body;
    assert.deepEqual([body.mode, body.permits, body.maxPermits], ["permits", 2, 5]);
    assert.equal(sem.permits, 2);
    await set.release();
    assert.equal(cluster.count("/api/v1/release"), 2);
  });
});

test("registers: absent is version 0; compare-and-set sends base64 and the fence; CONFLICT carries currentVersion", async () => {
  const cluster = new FakeCluster();
  granting(cluster);
  let stored: { version: number; value: string } | undefined;
  cluster.on((req) => {
    if (req.path.startsWith("/api/v1/registers/") && req.method === "GET") {
      return stored
        ? { status: 200, body: { key: "cfg", ...stored } }
        : { status: 404, body: { error: { code: "NOT_FOUND", message: "no register cfg" } } };
    }
    if (req.path === "/api/v1/registers/set") {
      const current = stored?.version ?? 0;
      if (req.body.expectedVersion !== current) return { status: 409, body: { error: { code: "CONFLICT", message: `cfg is at version ${current}, not ${req.body.expectedVersion}`, currentVersion: current } } };
      stored = { version: current + 1, value: req.body.value };
      return { status: 200, body: { key: "cfg", version: current + 1 } };
    }
    return undefined;
  });
  await withClient(cluster, async (client) => {
    const reg = client.register("cfg");
    assert.deepEqual(await reg.get(), { version: 0, value: null, text: null });
    const lease = await client.acquire("jobs/nightly");
    assert.equal(await reg.compareAndSet(0, "héllo", { fence: lease }), 1);
    const set = cluster.sent.find((s) => s.path === "/api/v1/registers/set")!.body;
    assert.equal(set.value, "aMOpbGxv");
    assert.deepEqual([set.fenceName, set.fenceToken], ["jobs/nightly", lease.fencingToken]);
    const got = await reg.get();
    assert.equal(got.version, 1);
    assert.equal(got.text, "héllo");
    await assert.rejects(reg.compareAndSet(0, "x"), (e: unknown) => e instanceof ConflictError && e.currentVersion === 1);
  });
});

test("close: deletes the session, ends leases without a loss report, stops the stream; idempotent", async () => {
  const cluster = new FakeCluster();
  granting(cluster);
  const client = await Client.connect({ members: ["http://a"], fetch: cluster.fetch });
  const lease = await client.acquire("a");
  const reasons: string[] = [];
  lease.onLost((r) => reasons.push(r));
  await Promise.all([client.close(), client.close()]);
  await client.close();
  const deletes = cluster.sent.filter((s) => s.method === "DELETE");
  assert.equal(deletes.length, 1);
  assert.equal(deletes[0].path, `/api/v1/sessions/${client.sessionId}`);
  assert.equal(lease.valid, false);
  assert.deepEqual(reasons, []);
  const polls = cluster.count(`/api/v1/sessions/${client.sessionId}/events`);
  await delay(100);
  assert.equal(cluster.count(`/api/v1/sessions/${client.sessionId}/events`), polls, "no poll after close");
});

test("a wait survives a leader change: the same acquire is re-sent to the new leader", async () => {
  const ids = { "http://a": "n1", "http://b": "n2", "http://c": "n3" };
  const cluster = new FakeCluster(ids, "n1");
  let phase: "before" | "election" | "after" = "before";
  let release!: () => void;
  const killed = new Promise<void>((r) => (release = r));
  cluster.on(async (req) => {
    if (req.path === "/status") {
      if (phase !== "before" && req.url === "http://a") return "refuse";
      return { status: 200, body: { id: ids[req.url as keyof typeof ids], leader: phase === "after" ? "n3" : phase === "before" ? "n1" : null } };
    }
    if (!req.path.startsWith("/api/v1/") || req.path.endsWith("/events")) return undefined;
    if (req.url === "http://a") {
      if (phase !== "before") return "refuse";
      if (req.path === "/api/v1/acquire") {
        await killed; // the leader dies while the wait is queued there
        return "drop";
      }
      return undefined;
    }
    if (phase === "election") return { status: 503, body: { error: { code: "NOT_LEADER", message: "no leader", leader: null } } };
    if (req.url === "http://b") return { status: 503, body: { error: { code: "NOT_LEADER", message: "not the leader", leader: "n3" } } };
    if (req.path === "/api/v1/acquire") return { status: 200, body: { name: req.body.name, granted: true, token: 12, requestId: req.body.requestId } };
    if (req.path === "/api/v1/sessions" || req.path.endsWith("/keepalive")) return undefined;
    return { status: 200, body: {} };
  });
  // Non-leaders answer as the leader does once the election is over. The wait starts at a, the leader.
  const client = await Client.connect({ members: Object.keys(ids), ttlMs: 5000, fetch: cluster.fetch, calls: "first" });
  try {
    const pending = client.acquire("a", { waitMs: 10_000 });
    await delay(50);
    phase = "election";
    release();
    await delay(300);
    phase = "after";
    const lease = await pending;
    assert.equal(lease.fencingToken, 12);
    const tries = cluster.sent.filter((s) => s.path === "/api/v1/acquire");
    assert.ok(tries.length >= 3, `${tries.length} tries`);
    assert.ok(tries.every((t) => t.raw === tries[0].raw), "every try is the same request");
    assert.equal(tries[tries.length - 1].url, "http://c");
  } finally {
    await client.close();
  }
});
