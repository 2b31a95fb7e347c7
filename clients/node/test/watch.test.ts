// Watches: the answer parser (canned JSON of protocol.md), and Client.watch / awaitFree against the
// scripted cluster with locks (test/fake-locks.ts).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Client } from "../src/client";
import { InvalidArgumentError, PermissionDeniedError, UnavailableError } from "../src/errors";
import { holdersOf, parseWatchPage } from "../src/watch";
import { FakeCluster } from "./fake";
import { FakeLocks } from "./fake-locks";
import { next } from "./watching";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(ids: Record<string, string> = { "http://a": "n1" }) {
  const cluster = new FakeCluster(ids, "n1");
  const locks = new FakeLocks(cluster);
  const members = Object.keys(ids);
  // calls: "first": the watches read from a, the first member, first (a test below kills it)
  const client = await Client.connect({ members, fetch: cluster.fetch, requestTimeoutMs: 1000, calls: "first" });
  const other = await Client.connect({ members, fetch: cluster.fetch, requestTimeoutMs: 1000, calls: "first" });
  return { cluster, locks, client, other, close: () => Promise.all([client.close(), other.close()]) };
}

/** Runs `body` with the clients of {@link setup} (members `ids`), closed after it. */
async function withSetup(body: (s: Awaited<ReturnType<typeof setup>>) => Promise<void>, ids?: Record<string, string>): Promise<void> {
  const s = await setup(ids);
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

test("parse: a lock gap is a state at next; a register gap has its version and value", () => {
  const lock = parseWatchPage(
    JSON.parse(`{"watch":"lock","name":"jobs/nightly","gap":true,"next":"915.0","events":[],
      "locks":[{"name":"jobs/nightly","semaphore":false,"maxPermits":1,
        "holders":[{"sessionId":"S","token":42,"mode":"exclusive","permits":1,"clientName":"c"}],
        "waiters":[{"sessionId":"T","mode":"exclusive","permits":1}]}]}`),
  );
  assert.equal(lock.gap, true);
  assert.equal(lock.next, "915.0");
  assert.equal(lock.events.length, 1);
  assert.equal(lock.events[0].type, "state");
  assert.equal(lock.events[0].position, "915.0");
  assert.deepEqual(holdersOf(lock.events[0]), [42]);
  assert.equal(lock.events[0].locks[0].waiters[0].sessionId, "T");
  const reg = parseWatchPage({ watch: "register", name: "config/x", gap: true, next: "915.0", events: [], register: { key: "config/x", version: 3, value: "aGVsbG8=" } });
  assert.equal(reg.events[0].version, 3);
  assert.equal(new TextDecoder().decode(reg.events[0].value!), "hello");
  assert.throws(() => parseWatchPage([1, 2]), TypeError);
});

test("parse: changes in order with their fields; unknown types left out", () => {
  const page = parseWatchPage({
    name: "jobs/",
    gap: false,
    next: "20.1",
    events: [
      { type: "queued", name: "jobs/a", sessionId: "T", mode: "exclusive", position: "11.1" },
      { type: "acquired", name: "jobs/a", sessionId: "S", token: 7, mode: "exclusive", position: "12.1" },
      { type: "somethingNew", name: "jobs/a", position: "13.1" },
      { type: "released", name: "jobs/a", sessionId: "S", token: 7, mode: "exclusive", cause: "revoked", position: "14.1" },
      { type: "waitEnded", name: "jobs/a", sessionId: "T", mode: "exclusive", cause: "timedOut", position: "15.1" },
      { type: "registerSet", name: "jobs/a", sessionId: "S", version: 2, value: "eA==", position: "20.1" },
    ],
  });
  assert.deepEqual(page.events.map((e) => e.type), ["queued", "acquired", "released", "waitEnded", "registerSet"]);
  assert.deepEqual(page.events.map((e) => e.position), ["11.1", "12.1", "14.1", "15.1", "20.1"]);
  assert.equal(page.events[2].cause, "revoked");
  assert.equal(page.events[2].token, 7);
  assert.equal(page.events[4].version, 2);
});

test("the state first, then every change of the lock in order; position follows", async () => {
  await withSetup(async ({ locks, client, other }) => {
    const held = await other.acquire("jobs/a");
    const w = client.watch("jobs/a");
    const state = await next(w);
    assert.equal(state.type, "state");
    assert.deepEqual(holdersOf(state), [held.fencingToken]);
    await held.release();
    const second = await other.acquire("jobs/a");
    await (await other.acquire("jobs/b")).release(); // another lock: not told
    locks.revoke("jobs/a");
    const got = [await next(w), await next(w), await next(w)];
    assert.deepEqual(
      got.map((e) => [e.type, e.token, e.cause]),
      [
        ["released", held.fencingToken, "released"],
        ["acquired", second.fencingToken, undefined],
        ["released", second.fencingToken, "revoked"],
      ],
    );
    assert.equal(got[1].sessionId, other.sessionId);
    assert.equal(w.position, got[2].position);
    w.close();
  });
});

test("a prefix watch tells only names under it; a register watch its versions", async () => {
  await withSetup(async ({ client, other }) => {
    const jobs = client.watch({ prefix: "jobs/" });
    const reg = client.watch({ register: "cfg/x" });
    assert.deepEqual((await next(jobs)).locks, []);
    const rs = await next(reg);
    assert.deepEqual([rs.type, rs.version, rs.value], ["state", 0, null]);
    await other.acquire("other/x");
    const a = await other.acquire("jobs/a");
    const e = await next(jobs);
    assert.deepEqual([e.type, e.name, e.token], ["acquired", "jobs/a", a.fencingToken]);
    await other.register("cfg/x").compareAndSet(0, "one");
    const set = await next(reg);
    assert.deepEqual([set.type, set.version, new TextDecoder().decode(set.value!)], ["registerSet", 1, "one"]);
    jobs.close();
    reg.close();
  });
});

test("a watch moves to another member from its position, without a new state", async () => {
  await withSetup(async ({ cluster, locks, client, other }) => {
    const w = client.watch("jobs/m");
    assert.equal((await next(w)).type, "state");
    const first = await other.acquire("jobs/m");
    assert.equal((await next(w)).token, first.fencingToken);
    locks.down.add("http://a"); // the member it reads from dies; n2 leads
    cluster.leader = "n2";
    await first.release();
    const second = await other.acquire("jobs/m");
    const got = [await next(w, 5000), await next(w, 5000)];
    assert.deepEqual(
      got.map((e) => [e.type, e.token]),
      [
        ["released", first.fencingToken],
        ["acquired", second.fencingToken],
      ],
    );
    const atB = cluster.sent.filter((s) => s.path === "/api/v1/watch" && s.url === "http://b");
    assert.ok(atB.length > 0 && atB.every((s) => s.search.includes("after=")), "asked b from its position");
    w.close();
  }, { "http://a": "n1", "http://b": "n2" });
});

test("a gap gives a fresh state", async () => {
  await withSetup(async ({ locks, client, other }) => {
    const w = client.watch("jobs/g");
    assert.deepEqual(holdersOf(await next(w)), []);
    const held = await other.acquire("jobs/g");
    assert.equal((await next(w)).type, "acquired");
    locks.forgetChanges();
    const state = await next(w);
    assert.equal(state.type, "state");
    assert.deepEqual(holdersOf(state), [held.fencingToken]);
    w.close();
  });
});

test("a refused watch rejects its iteration; a bad target throws at once", async () => {
  await withSetup(async ({ client }) => {
    const w = client.watch("secret/x");
    await assert.rejects(w.next(), PermissionDeniedError);
    await assert.rejects(w.next(), PermissionDeniedError); // it stays ended
    assert.throws(() => client.watch({} as any), InvalidArgumentError);
    assert.throws(() => client.watch({ lock: "a", prefix: "b" } as any), InvalidArgumentError);
    assert.throws(() => client.watch(""), InvalidArgumentError);
  });
});

test("break ends the loop and aborts the long poll; closing the client ends its watches", async () => {
  await withSetup(async ({ cluster, client }) => {
    const w = client.watch("jobs/c");
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of w) {
        seen.push(e.type);
      }
    })();
    await delay(100); // the loop has the state and waits in the long poll
    const polls = cluster.count("/api/v1/watch");
    const started = Date.now();
    w.close();
    await loop;
    assert.ok(Date.now() - started < 500, "ended at once");
    assert.deepEqual(seen, ["state"]);
    await delay(50);
    assert.equal(cluster.count("/api/v1/watch"), polls, "no poll after the close");

    const v = client.watch("jobs/d");
    assert.equal((await next(v)).type, "state");
    const pending = v.next();
    await client.close();
    await assert.rejects(pending, UnavailableError);
    assert.throws(() => client.watch("jobs/d"), UnavailableError);
  });
});

test("awaitFree: true when free, false at the timeout, true once released", async () => {
  await withSetup(async ({ client, other }) => {
    assert.equal(await client.awaitFree("jobs/f", 0), true);
    const held = await other.acquire("jobs/f");
    let started = Date.now();
    assert.equal(await client.awaitFree("jobs/f", 300), false);
    assert.ok(Date.now() - started >= 290);
    setTimeout(() => void held.release(), 300);
    started = Date.now();
    assert.equal(await client.awaitFree("jobs/f", 5000), true);
    assert.ok(Date.now() - started < 2000);
    await assert.rejects(client.awaitFree("secret/f", 1000), PermissionDeniedError);
  });
});
