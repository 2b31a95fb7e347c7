import { test } from "node:test";
import * as assert from "node:assert/strict";
import { InvalidArgumentError } from "../src/errors";
import { checkMode, checkName, checkNames, checkNonNegative, checkPermits, toBytes } from "../src/validate";
import { Client } from "../src/client";
import { FakeCluster } from "./fake";

test("names: empty or not a string is refused; the server judges the rest", () => {
  assert.throws(() => checkName(""), InvalidArgumentError);
  assert.throws(() => checkName(undefined), InvalidArgumentError);
  assert.equal(checkName("a//b"), "a//b", "segment rules are the server's");
});

test("waits, leases, versions: non-negative integers", () => {
  assert.equal(checkNonNegative(0, "waitMs"), 0);
  assert.throws(() => checkNonNegative(-1, "waitMs"), /waitMs must be a non-negative integer/);
  assert.throws(() => checkNonNegative(1.5, "waitMs"), InvalidArgumentError);
  assert.throws(() => checkNonNegative(Number.NaN, "waitMs"), InvalidArgumentError);
});

test("permits: at least 1, not above maxPermits", () => {
  assert.deepEqual(checkPermits(2, 5), { permits: 2, maxPermits: 5 });
  assert.throws(() => checkPermits(0, 5), /permits must be at least 1/);
  assert.throws(() => checkPermits(6, 5), /exceed maxPermits/);
  assert.throws(() => checkPermits(1, 0), InvalidArgumentError);
});

test("modes and acquire-all names", () => {
  assert.equal(checkMode("shared"), "shared");
  assert.throws(() => checkMode("upgrade"), InvalidArgumentError);
  assert.deepEqual(checkNames(["b", "a"]), ["b", "a"]);
  assert.throws(() => checkNames([]), InvalidArgumentError);
  assert.throws(() => checkNames(["a", "a"]), /listed twice/);
  assert.throws(() => checkNames(["a", ""]), InvalidArgumentError);
});

test("register values: strings as UTF-8, bytes as they are", () => {
  assert.deepEqual([...toBytes("é")], [0xc3, 0xa9]);
  assert.deepEqual([...toBytes(new Uint8Array([1, 2]))], [1, 2]);
  assert.throws(() => toBytes(42), InvalidArgumentError);
});

test("the client refuses bad arguments before sending anything", async () => {
  const cluster = new FakeCluster();
  const client = await Client.connect({ members: ["http://a"], fetch: cluster.fetch });
  try {
    const before = cluster.sent.filter((s) => s.path.startsWith("/api/v1/acquire")).length;
    await assert.rejects(client.acquire(""), InvalidArgumentError);
    await assert.rejects(client.acquire("x", { waitMs: -1 }), InvalidArgumentError);
    await assert.rejects(client.acquire("x", { mode: "permits", permits: 0, maxPermits: 3 }), InvalidArgumentError);
    await assert.rejects(client.semaphore("x", 0, 3), InvalidArgumentError);
    await assert.rejects(client.acquireAll([]), InvalidArgumentError);
    assert.throws(() => client.register(""), InvalidArgumentError);
    const after = cluster.sent.filter((s) => s.path.startsWith("/api/v1/acquire")).length;
    assert.equal(after, before);
  } finally {
    await client.close();
  }
});

test("connect refuses an empty member list", async () => {
  await assert.rejects(Client.connect({ members: [] }), InvalidArgumentError);
});

test("connect refuses a calls option other than home or first, before anything is sent", async () => {
  const cluster = new FakeCluster();
  await assert.rejects(
    Client.connect({ members: ["http://a"], fetch: cluster.fetch, calls: "leader" as any }),
    (e: unknown) => e instanceof InvalidArgumentError && e.message === 'holdfast: calls is "home" or "first", not "leader"',
  );
  assert.equal(cluster.sent.length, 0);
  const client = await Client.connect({ members: ["http://a"], fetch: cluster.fetch, calls: "first" });
  await client.close();
});
