import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Transport } from "../src/transport";
import { LockTimeoutError, UnavailableError } from "../src/errors";
import { FakeCluster } from "./fake";

const members = ["http://a", "http://b", "http://c"];
const ids = { "http://a": "n1", "http://b": "n2", "http://c": "n3" };

test("NOT_LEADER is followed to the member it names, with the same body", async () => {
  const cluster = new FakeCluster(ids, "n3");
  cluster.on((req) => (req.path === "/status" ? { status: 200, body: { id: ids[req.url as keyof typeof ids] } } : undefined));
  cluster.on((req) => (req.path === "/api/v1/x" && req.url === "http://c" ? { status: 200, body: { ok: true } } : undefined));
  const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch });
  await t.learnMembers();
  const answer = await t.call({ method: "POST", path: "/api/v1/x", body: { requestId: 7 }, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 });
  assert.equal(answer.member, "http://c");
  const tries = cluster.sent.filter((s) => s.path === "/api/v1/x");
  assert.deepEqual(tries.map((s) => s.url), ["http://a", "http://c"]);
  assert.equal(tries[0].raw, tries[1].raw, "the same request, byte for byte");
  assert.equal(t.leaderAddress, "http://c", "the leader is remembered");
});

test("/status names the leader: the first request goes there", async () => {
  const cluster = new FakeCluster(ids, "n2");
  cluster.on((req) => (req.path === "/api/v1/x" ? { status: 200, body: {} } : undefined));
  const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch });
  await t.learnMembers();
  const answer = await t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 });
  assert.equal(answer.member, "http://b");
});

test("a dropped answer, a 503 UNAVAILABLE and a 504 are re-sent with the same body", async () => {
  const cluster = new FakeCluster({ "http://a": "n1" }, "n1");
  const script = ["drop", { status: 503, body: { error: { code: "UNAVAILABLE", message: "no quorum" } } }, { status: 504, body: { error: { code: "TIMEOUT", message: "slow" } } }];
  cluster.on((req) => (req.path === "/api/v1/x" ? (script.shift() as any) ?? { status: 200, body: { token: 9 } } : undefined));
  const t = new Transport({ members: ["http://a"], requestTimeoutMs: 1000, fetch: cluster.fetch });
  const answer = await t.call({ method: "POST", path: "/api/v1/x", body: { requestId: 3, ackedBelow: 1 }, attemptTimeoutMs: 1000, deadline: Date.now() + 5000 });
  assert.equal(answer.body.token, 9);
  const tries = cluster.sent.filter((s) => s.path === "/api/v1/x");
  assert.equal(tries.length, 4);
  assert.ok(tries.every((s) => s.raw === tries[0].raw));
});

test("a final error answer is raised at once, typed", async () => {
  const cluster = new FakeCluster({ "http://a": "n1" }, "n1");
  cluster.on((req) => (req.path === "/api/v1/x" ? { status: 409, body: { error: { code: "TIMEOUT", message: "a was not granted within 0 ms" } } } : undefined));
  const t = new Transport({ members: ["http://a"], requestTimeoutMs: 1000, fetch: cluster.fetch });
  await assert.rejects(
    t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 }),
    (e: unknown) => e instanceof LockTimeoutError && e.message === "a was not granted within 0 ms",
  );
  assert.equal(cluster.count("/api/v1/x"), 1);
});

test("past the deadline: UnavailableError naming the last cause", async () => {
  const cluster = new FakeCluster({ "http://a": "n1", "http://b": "n2" }, "n1");
  cluster.on(() => "refuse");
  const t = new Transport({ members: ["http://a", "http://b"], requestTimeoutMs: 100, fetch: cluster.fetch });
  const started = Date.now();
  await assert.rejects(
    t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 100, deadline: Date.now() + 400 }),
    (e: unknown) =>
      e instanceof UnavailableError && /^holdfast: cannot reach any member \(http:\/\/[ab]: connection refused\)$/.test(e.message),
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 350 && elapsed < 2000, `gave up after ${elapsed} ms`);
  const urls = new Set(cluster.sent.filter((s) => s.path === "/api/v1/x").map((s) => s.url));
  assert.deepEqual([...urls].sort(), ["http://a", "http://b"], "rotated through the members");
});

test("a try with no answer times out and is described as such", async () => {
  const cluster = new FakeCluster({ "http://a": "n1" }, "n1");
  cluster.on((req) => (req.path === "/api/v1/x" ? "hang" : undefined));
  const t = new Transport({ members: ["http://a"], requestTimeoutMs: 50, fetch: cluster.fetch });
  await assert.rejects(
    t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 50, deadline: Date.now() + 200 }),
    /no answer within \d+ ms/,
  );
});

test("an aborted call rejects with the signal's reason", async () => {
  const cluster = new FakeCluster({ "http://a": "n1" }, "n1");
  cluster.on((req) => (req.path === "/api/v1/x" ? "hang" : undefined));
  const t = new Transport({ members: ["http://a"], requestTimeoutMs: 5000, fetch: cluster.fetch });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("given up")), 30);
  await assert.rejects(
    t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 5000, deadline: Date.now() + 5000, signal: controller.signal }),
    /given up/,
  );
});

test("the bearer token is sent on every request", async () => {
  const seen: string[] = [];
  const t = new Transport({
    members: ["http://a"],
    requestTimeoutMs: 1000,
    bearerToken: "s3cret",
    fetch: async (_url, init) => {
      seen.push(init.headers["authorization"]);
      return { status: 200, text: async () => "{}" };
    },
  });
  await t.call({ method: "GET", path: "/api/v1/fence?name=a&token=1", attemptTimeoutMs: 1000, deadline: Date.now() + 1000 });
  assert.deepEqual(seen, ["Bearer s3cret"]);
});
