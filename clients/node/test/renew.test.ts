// A client outlives its sessions (docs/adr/0004-clients-outlive-their-session.md), against the
// scripted cluster (test/fake.ts, with keys and locks where a test needs them).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Client, ClientOptions } from "../src/client";
import { SessionExpiredError, UnavailableError } from "../src/errors";
import { Group } from "../src/keys";
import { fromBase64 } from "../src/register";
import { REJOIN_CAP_MS, REJOIN_FIRST_MS, RejoinBackoff, RenewBackoff } from "../src/renew";
import { FakeCluster } from "./fake";
import { FakeKeys } from "./fake-keys";
import { FakeLocks } from "./fake-locks";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** What a session listener was told, in order. */
function listen(client: Client): string[] {
  const heard: string[] = [];
  client.onSession({
    lost: (oldId, cause) => heard.push(`lost ${oldId}: ${cause.message}`),
    reestablished: (newId) => heard.push(`reestablished ${newId}`),
  });
  return heard;
}

function granting(cluster: FakeCluster): void {
  let token = 100;
  cluster.on((req) => (req.path === "/api/v1/acquire" ? { status: 200, body: { name: req.body.name, granted: true, token: ++token, requestId: req.body.requestId } } : undefined));
}

/** Answers session opens 503 while `refusing()`. */
function refusingOpens(cluster: FakeCluster, refusing: () => boolean): void {
  cluster.on((req) =>
    refusing() && req.path === "/api/v1/sessions" ? { status: 503, body: { error: { code: "UNAVAILABLE", message: "no session is opened now" } } } : undefined,
  );
}

/**
 * Answers key puts 503 UNAVAILABLE while `refusing()`. Given to the cluster before {@link FakeKeys},
 * whose handler would answer them first.
 */
function refusingPuts(cluster: FakeCluster, refusing: () => boolean): void {
  cluster.on((req) =>
    refusing() && req.path === "/api/v1/keys/put" ? { status: 503, body: { error: { code: "UNAVAILABLE", message: "no write is served now" } } } : undefined,
  );
}

async function connect(cluster: FakeCluster, options: Partial<ClientOptions> = {}): Promise<Client> {
  return Client.connect({ members: ["http://a"], fetch: cluster.fetch, requestTimeoutMs: 500, ...options });
}

test("a lost session is followed by a new one; its lease stays lost and is not taken again", async () => {
  const cluster = new FakeCluster();
  granting(cluster);
  const client = await connect(cluster);
  try {
    const heard = listen(client);
    const old = client.sessionId;
    const lease = await client.acquire("jobs/a");
    const reasons: string[] = [];
    lease.onLost((r) => reasons.push(r));
    const acquires = cluster.count("/api/v1/acquire");
    cluster.push({ type: "sessionExpired" }, old);
    await waitUntil("the next session", () => heard.length === 2);
    assert.match(heard[0], new RegExp(`^lost ${old}: holdfast: session ${old} was lost: `));
    assert.equal(heard[1], `reestablished ${client.sessionId}`);
    assert.notEqual(client.sessionId, old, "a new session, never the lost one");
    assert.deepEqual(reasons, ["sessionExpired"]);
    assert.equal(lease.valid, false);
    assert.equal(client.expired, false);
    assert.equal(cluster.count("/api/v1/acquire"), acquires, "the library takes no lock again");
    const again = await client.acquire("jobs/b");
    const last = cluster.sent.filter((s) => s.path === "/api/v1/acquire").pop()!;
    assert.equal(last.body.session, client.sessionId);
    assert.equal(last.body.requestId, 1, "request ids start again with the new session");
    assert.ok(again.fencingToken > lease.fencingToken);
  } finally {
    await client.close();
  }
});

test("heartbeats unanswered for a TTL lose the session; the next opens once members answer", async () => {
  const cluster = new FakeCluster();
  let failing = false;
  cluster.on((req) => (failing && (req.path.endsWith("/keepalive") || req.path === "/api/v1/sessions") ? "refuse" : undefined));
  const client = await connect(cluster, { ttlMs: 1000, requestTimeoutMs: 200 });
  try {
    const heard = listen(client);
    const old = client.sessionId;
    failing = true;
    await waitUntil("the loss", () => heard.length === 1);
    assert.match(heard[0], /no heartbeat acknowledged for 1s/);
    assert.equal(client.renewing, true);
    await delay(300);
    failing = false;
    await waitUntil("the next session", () => heard.length === 2, 5000);
    assert.notEqual(client.sessionId, old);
    assert.equal(client.renewing, false);
  } finally {
    await client.close();
  }
});

test("a call between two sessions waits within its timeout, then names the cause", async () => {
  const cluster = new FakeCluster();
  granting(cluster);
  let refusing = false;
  refusingOpens(cluster, () => refusing);
  const client = await connect(cluster, { requestTimeoutMs: 300 });
  try {
    const heard = listen(client);
    refusing = true;
    cluster.push({ type: "sessionExpired" }, client.sessionId);
    await waitUntil("the loss", () => heard.length === 1);
    const t0 = Date.now();
    await assert.rejects(
      client.acquire("jobs/g"),
      (e: unknown) =>
        e instanceof UnavailableError &&
        e.message.startsWith("holdfast: no session: the last was lost (the session expired (reported by the event stream)") &&
        e.message.endsWith("; opening a new one"),
    );
    assert.ok(Date.now() - t0 >= 250, "waited within its timeout");
    refusing = false;
    const lease = await client.acquire("jobs/g", { waitMs: 3000 });
    assert.equal(heard.length, 2);
    assert.equal(lease.valid, true);
  } finally {
    await client.close();
  }
});

test("a member is joined again with its last value; a left one is not", async () => {
  const cluster = new FakeCluster();
  const keys = new FakeKeys(cluster, new FakeLocks(cluster));
  const client = await connect(cluster);
  try {
    const heard = listen(client);
    const group = client.keys().group("services/web");
    await group.join("i-1", "10.0.0.1:80");
    await group.join("i-1", "10.0.0.1:81");
    await group.join("i-2", "x");
    assert.equal(await group.leave("i-2"), true);
    const old = client.sessionId;
    keys.endSession(old, "sessionExpired");
    cluster.push({ type: "sessionExpired" }, old);
    await waitUntil("the next session", () => heard.length === 2);
    await waitUntil("the member joined again", () => keys.store.get("services/web/i-1")?.owner === client.sessionId);
    assert.deepEqual([...(await group.members()).entries()].map(([m, v]) => [m, new TextDecoder().decode(v)]), [["i-1", "10.0.0.1:81"]]);
  } finally {
    await client.close();
  }
});

test("a key still held by the client's own lost session is joined again", async () => {
  const cluster = new FakeCluster();
  const keys = new FakeKeys(cluster, new FakeLocks(cluster));
  const client = await connect(cluster);
  try {
    const heard = listen(client);
    await client.keys().group("services/web").join("i-1", "v");
    cluster.push({ type: "sessionExpired" }, client.sessionId); // the fake keeps the key
    await waitUntil("the next session", () => heard.length === 2);
    await waitUntil("the member joined again", () => keys.store.get("services/web/i-1")?.owner === client.sessionId);
  } finally {
    await client.close();
  }
});

test("a rejoin that fails (the service gone again right after the new session opened) is tried again until the member is back", async () => {
  const cluster = new FakeCluster();
  let refusing = false;
  refusingPuts(cluster, () => refusing);
  const keys = new FakeKeys(cluster, new FakeLocks(cluster));
  const failed: string[] = [];
  const log = (m: string) => (m.startsWith("joining services/web/i-1 again: ") ? failed.push(m) : undefined);
  const client = await connect(cluster, { requestTimeoutMs: 100, log });
  try {
    const heard = listen(client);
    await client.keys().group("services/web").join("i-1", "v");
    const old = client.sessionId;
    refusing = true;
    keys.endSession(old, "sessionExpired");
    cluster.push({ type: "sessionExpired" }, old);
    await waitUntil("the next session", () => heard.length === 2);
    await waitUntil("the first rejoin to fail", () => failed.length === 1);
    assert.match(failed[0], /no write is served now/);
    assert.equal(keys.store.get("services/web/i-1"), undefined);
    refusing = false;
    await waitUntil("the member joined again", () => keys.store.get("services/web/i-1")?.owner === client.sessionId);
    assert.equal(new TextDecoder().decode(fromBase64(keys.store.get("services/web/i-1")!.value)), "v");
  } finally {
    await client.close();
  }
});

test("a member that left while its rejoin is tried again is not joined again", async () => {
  const cluster = new FakeCluster();
  let refusing = false;
  refusingPuts(cluster, () => refusing);
  const keys = new FakeKeys(cluster, new FakeLocks(cluster));
  let group: Group | undefined;
  let left: Promise<boolean> | undefined;
  // It leaves as soon as the first try has failed, while the next waits for its pause.
  const log = (m: string) => (m.startsWith("joining services/web/i-1 again: ") ? (left ??= group!.leave("i-1")) : undefined);
  const client = await connect(cluster, { requestTimeoutMs: 100, log });
  try {
    const heard = listen(client);
    group = client.keys().group("services/web");
    await group.join("i-1", "v");
    const old = client.sessionId;
    refusing = true;
    keys.endSession(old, "sessionExpired");
    cluster.push({ type: "sessionExpired" }, old);
    await waitUntil("the next session", () => heard.length === 2);
    await waitUntil("the leave", () => left !== undefined);
    assert.equal(await left, false, "nothing of it to delete");
    refusing = false;
    const puts = cluster.count("/api/v1/keys/put");
    await delay(5 * REJOIN_FIRST_MS);
    assert.equal(cluster.count("/api/v1/keys/put"), puts, "not tried again");
    assert.equal(keys.store.get("services/web/i-1"), undefined);
  } finally {
    await client.close();
  }
});

test("a name another live session took is not taken over: onRejoinFailed is told", async () => {
  const cluster = new FakeCluster();
  const keys = new FakeKeys(cluster, new FakeLocks(cluster));
  let refusing = false;
  refusingOpens(cluster, () => refusing);
  const client = await connect(cluster);
  const other = await connect(cluster, { renewSessions: false });
  try {
    const heard = listen(client);
    const failed: Array<[string, string | null]> = [];
    const group = client.keys().group("services/web").onRejoinFailed((m, holder) => failed.push([m, holder]));
    await group.join("i-1", "first");
    refusing = true;
    const old = client.sessionId;
    keys.endSession(old, "sessionExpired");
    cluster.push({ type: "sessionExpired" }, old);
    await waitUntil("the loss", () => heard.length === 1);
    await other.keys().group("services/web").join("i-1", "second");
    refusing = false;
    await waitUntil("onRejoinFailed", () => failed.length === 1, 5000);
    assert.deepEqual(failed, [["i-1", other.sessionId]]);
    assert.equal(keys.store.get("services/web/i-1")?.owner, other.sessionId);
  } finally {
    await Promise.all([client.close(), other.close()]);
  }
});

test("a campaign whose session is lost while it waits campaigns again under the next", async () => {
  const cluster = new FakeCluster();
  const locks = new FakeLocks(cluster);
  const holder = await connect(cluster, { renewSessions: false });
  const client = await connect(cluster);
  try {
    const leading = await holder.election("e").campaign("holder");
    const heard = listen(client);
    const old = client.sessionId;
    const won = client.election("e").campaign("again", { waitMs: 10_000 });
    await waitUntil("the wait", () => locks.changes.some((c) => c.type === "queued" && c.sessionId === old));
    locks.endSession(old);
    cluster.push({ type: "sessionExpired" }, old);
    await waitUntil("the next session", () => heard.length === 2);
    await leading.resign();
    const leadership = await won;
    assert.notEqual(client.sessionId, old);
    assert.equal(locks.holders.get("e")?.session, client.sessionId);
    assert.ok(leadership.epoch > leading.epoch);
  } finally {
    await Promise.all([client.close(), holder.close()]);
  }
});

test("opted out, the client ends with its session", async () => {
  const cluster = new FakeCluster();
  const client = await connect(cluster, { renewSessions: false });
  try {
    const heard = listen(client);
    const old = client.sessionId;
    cluster.push({ type: "sessionExpired" }, old);
    await waitUntil("the expiry", () => client.expired);
    await delay(200);
    assert.equal(heard.length, 1);
    assert.match(heard[0], new RegExp(`^lost ${old}`));
    assert.equal(client.sessionId, old);
    await assert.rejects(client.acquire("x"), SessionExpiredError);
    assert.equal(cluster.count("/api/v1/sessions"), 1, "no other session opened");
  } finally {
    await client.close();
  }
});

test("the backoff between tries: 100 ms doubling to 2 s, full jitter", () => {
  const b = new RenewBackoff(() => 0.5);
  assert.deepEqual(
    Array.from({ length: 9 }, () => b.delayMs()),
    [50, 100, 200, 400, 800, 1000, 1000, 1000, 1000],
  );
});

test("the pauses before a rejoin is tried again: 100 ms doubling to 1 s, no jitter", () => {
  const b = new RejoinBackoff();
  assert.deepEqual(
    Array.from({ length: 7 }, () => b.delayMs()),
    [100, 200, 400, 800, 1000, 1000, 1000],
  );
  assert.deepEqual([REJOIN_FIRST_MS, REJOIN_CAP_MS], [100, 1000]);
});

test("a renewal's try outlives a member that never answers the open: another member opens it within the try", async () => {
  const cluster = new FakeCluster({ "http://a": "n1", "http://b": "n2" });
  let silent = false;
  cluster.on((req) => (silent && req.url === "http://a" && req.path === "/api/v1/sessions" ? "hang" : undefined));
  cluster.on((req) =>
    req.url === "http://b" && req.path === "/api/v1/sessions" ? { status: 201, body: { sessionId: req.body.sessionId, ttlMillis: req.body.ttlMillis } } : undefined,
  );
  const client = await Client.connect({ members: ["http://a", "http://b"], calls: "first", fetch: cluster.fetch, requestTimeoutMs: 500 });
  const original = RenewBackoff.prototype.delayMs;
  let pauses = 0;
  RenewBackoff.prototype.delayMs = function (this: RenewBackoff) {
    pauses++;
    return original.call(this);
  };
  try {
    const heard = listen(client);
    const old = client.sessionId;
    silent = true;
    cluster.push({ type: "sessionExpired" }, old);
    await waitUntil("the next session", () => heard.length === 2);
    assert.match(heard[1], /^reestablished /);
    assert.equal(pauses, 0, "a try failed at the silent member");
    const opens = cluster.sent.filter((s) => s.path === "/api/v1/sessions").map((s) => s.url);
    assert.deepEqual(opens.slice(-2), ["http://a", "http://b"], opens.join(", "));
  } finally {
    RenewBackoff.prototype.delayMs = original;
    silent = false;
    await client.close();
  }
});
