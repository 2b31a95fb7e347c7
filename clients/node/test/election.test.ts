// Elections against the scripted cluster with locks (test/fake-locks.ts).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "../src/client";
import { ConflictError, InvalidArgumentError, LockTimeoutError } from "../src/errors";
import { Observation, proclaimed } from "../src/election";
import type { Leader } from "../src/election";
import { fromBase64 } from "../src/register";
import { FakeCluster } from "./fake";
import { FakeLocks } from "./fake-locks";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup() {
  const cluster = new FakeCluster();
  const locks = new FakeLocks(cluster);
  const a = await Client.connect({ members: ["http://a"], fetch: cluster.fetch, requestTimeoutMs: 1000 });
  const b = await Client.connect({ members: ["http://a"], fetch: cluster.fetch, requestTimeoutMs: 1000 });
  return { cluster, locks, a, b, close: () => Promise.all([a.close(), b.close()]) };
}

test("proclaimed reads the shared vectors (clients/vectors/records.json)", () => {
  const vectors = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "..", "vectors", "records.json"), "utf8")).election;
  assert.ok(vectors.length > 0);
  for (const v of vectors) {
    const found = proclaimed(v.record);
    const want = "invalid" in v ? "invalid" : `${Number(v.epoch)} ${v.value}`;
    assert.equal(found ? `${found.epoch} ${found.value}` : "invalid", want, JSON.stringify(v));
  }
});

test("one leads with its token as epoch; on resign the next leads with a higher one", async () => {
  const { cluster, locks, a, b, close } = await setup();
  try {
    assert.equal(await a.election("svc/indexer").leader(), null);
    const first = await a.election("svc/indexer").campaign("a:8080");
    assert.equal(first.valid, true);
    assert.deepEqual(await b.election("svc/indexer").leader(), { election: "svc/indexer", epoch: first.epoch, value: "a:8080" });
    assert.deepEqual(locks.holders.get("svc/indexer"), { session: a.sessionId, token: first.epoch });
    const write = cluster.sent.filter((s) => s.path === "/api/v1/registers/set").pop()!.body;
    assert.deepEqual([write.fenceName, write.fenceToken], ["svc/indexer", first.epoch]);
    assert.equal(new TextDecoder().decode(fromBase64(write.value)), `${first.epoch}:a:8080`);

    await assert.rejects(b.election("svc/indexer").campaign("b:8080"), LockTimeoutError);
    let won = false;
    const second = b
      .election("svc/indexer")
      .campaign("b:8080", { waitMs: 5000 })
      .then((l) => ((won = true), l));
    for (let i = 0; !locks.changes.some((c) => c.type === "queued" && c.name === "svc/indexer"); i++) {
      assert.ok(i < 300, "the second candidate did not queue");
      await delay(10);
    }
    assert.equal(won, false, "the second waits while the first leads");
    const lost: string[] = [];
    first.onLost((r) => lost.push(r));
    await first.resign();
    const next = await second;
    assert.ok(next.epoch > first.epoch);
    assert.equal(first.valid, false);
    assert.deepEqual(lost, [], "a resignation is no loss");
    assert.deepEqual(await a.election("svc/indexer").leader(), { election: "svc/indexer", epoch: next.epoch, value: "b:8080" });
    await next.resign();
    assert.equal(await a.election("svc/indexer").leader(), null);
  } finally {
    await close();
  }
});

test("a leader that has not proclaimed yet shows no value, nor an older leader's", async () => {
  const { a, b, close } = await setup();
  try {
    const lease = await a.acquire("svc/quiet");
    assert.deepEqual(await b.election("svc/quiet").leader(), { election: "svc/quiet", epoch: lease.fencingToken, value: null });
    await a.register("svc/quiet").compareAndSet(0, `${lease.fencingToken - 1}:old`);
    assert.equal((await b.election("svc/quiet").leader())!.value, null);
  } finally {
    await close();
  }
});

test("a lost leadership is told; a failed proclamation releases the lock", async () => {
  const { cluster, locks, a, b, close } = await setup();
  try {
    const leading = await a.election("svc/lost").campaign("a");
    const reasons: string[] = [];
    leading.onLost((r, l) => reasons.push(`${r}@${l.epoch}`));
    locks.revoke("svc/lost");
    cluster.push({ type: "lost", name: "svc/lost", token: leading.epoch, reason: "revoked" });
    for (let i = 0; reasons.length === 0; i++) {
      assert.ok(i < 200, "the loss was not told");
      await delay(10);
    }
    assert.deepEqual(reasons, [`revoked@${leading.epoch}`]);
    assert.equal(leading.valid, false);

    locks.refuseKeys.add("svc/taken"); // every write of the register is refused CONFLICT
    await assert.rejects(b.election("svc/taken").campaign("b"), ConflictError);
    assert.equal(locks.holders.has("svc/taken"), false, "the candidacy ended");
  } finally {
    await close();
  }
});

test("bad values are refused before anything is sent", async () => {
  const { cluster, a, close } = await setup();
  try {
    await assert.rejects(a.election("svc/x").campaign(undefined as any), InvalidArgumentError);
    await assert.rejects(a.election("svc/x").campaign("é".repeat(16 * 1024 + 1)), InvalidArgumentError);
    assert.throws(() => a.election(""), InvalidArgumentError);
    assert.equal(cluster.count("/api/v1/acquire"), 0);
  } finally {
    await close();
  }
});

/** Reads `observation` until `want` is told (5 s at most); what was told, in order. */
async function toldUntil(observation: Observation, want: Leader | null): Promise<Array<Leader | null>> {
  const told: Array<Leader | null> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${JSON.stringify(want)} not told; told ${JSON.stringify(told)}`)), 5000);
  });
  try {
    for (;;) {
      const r = await Promise.race([observation.next(), timeout]);
      assert.equal(r.done, false, `the observation ended; told ${JSON.stringify(told)}`);
      told.push(r.value);
      if (JSON.stringify(r.value) === JSON.stringify(want)) return told;
    }
  } finally {
    clearTimeout(timer);
  }
}

test("observe tells each leader in epoch order, and ends when closed", async () => {
  const { a, b, close } = await setup();
  const observation = b.election("svc/observed").observe();
  try {
    assert.deepEqual(await toldUntil(observation, null), [null]);
    const first = await a.election("svc/observed").campaign("a:8080");
    await toldUntil(observation, { election: "svc/observed", epoch: first.epoch, value: "a:8080" });
    await first.resign();
    await toldUntil(observation, null);
    const second = await b.election("svc/observed").campaign("b:8080");
    const told = await toldUntil(observation, { election: "svc/observed", epoch: second.epoch, value: "b:8080" });
    assert.ok(told.every((l) => l !== null && l.epoch === second.epoch), JSON.stringify(told));
    observation.close();
    assert.deepEqual(await observation.next(), { value: undefined, done: true });
  } finally {
    observation.close();
    await close();
  }
});

test("observe tells a leader before its value", async () => {
  const { a, b, close } = await setup();
  const observation = b.election("svc/quiet").observe();
  try {
    const lease = await a.acquire("svc/quiet"); // elected, not proclaimed
    await toldUntil(observation, { election: "svc/quiet", epoch: lease.fencingToken, value: null });
    await a.register("svc/quiet").compareAndSet(0, `${lease.fencingToken}:late`, { fence: lease });
    await toldUntil(observation, { election: "svc/quiet", epoch: lease.fencingToken, value: "late" });
  } finally {
    observation.close();
    await close();
  }
});
