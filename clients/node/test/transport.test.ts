import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Transport } from "../src/transport";
import { Backoff, LeaderSearch } from "../src/backoff";
import type { Clock } from "../src/clock";
import { InvalidArgumentError, LockTimeoutError, UnavailableError } from "../src/errors";
import { FakeCluster } from "./fake";

const members = ["http://a", "http://b", "http://c"];
const ids = { "http://a": "n1", "http://b": "n2", "http://c": "n3" };

test("NOT_LEADER is followed to the member it names, with the same body; the home moves there", async () => {
  const cluster = new FakeCluster(ids, "n3");
  cluster.on((req) => (req.path === "/status" ? { status: 200, body: { id: ids[req.url as keyof typeof ids] } } : undefined));
  cluster.on((req) => (req.path === "/api/v1/x" && req.url === "http://c" ? { status: 200, body: { ok: true } } : undefined));
  const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch, calls: "first" });
  await t.learnMembers();
  const answer = await t.call({ method: "POST", path: "/api/v1/x", body: { requestId: 7 }, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 });
  assert.equal(answer.member, "http://c");
  const tries = cluster.sent.filter((s) => s.path === "/api/v1/x");
  assert.deepEqual(tries.map((s) => s.url), ["http://a", "http://c"]);
  assert.equal(tries[0].raw, tries[1].raw, "the same request, byte for byte");
  assert.equal(t.homeAddress, "http://c", "a member that does not serve named the leader: the home moves there");
  assert.equal(t.leaderAddress, t.homeAddress, "the deprecated name says the same");
});

test("the first home is picked at random among the members", async () => {
  const cluster = new FakeCluster(ids, "n1");
  cluster.on((req) => (req.path === "/api/v1/x" ? { status: 200, body: {} } : undefined));
  const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch, random: () => 0.7 });
  assert.equal(t.homeIndex, 2);
  const answer = await t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 });
  assert.equal(answer.member, "http://c");
  assert.deepEqual(cluster.sent.map((s) => s.url), ["http://c"], "the first request at the home");
  assert.equal(new Transport({ members, requestTimeoutMs: 1000, random: () => 0 }).homeIndex, 0);
  assert.equal(new Transport({ members, requestTimeoutMs: 1000, random: () => 0.34 }).homeIndex, 1);
  assert.equal(new Transport({ members, requestTimeoutMs: 1000, random: () => 0.9999 }).homeIndex, 2);
  const homes = new Set(Array.from({ length: 40 }, () => new Transport({ members, requestTimeoutMs: 1000 }).homeIndex));
  assert.deepEqual([...homes].sort(), [0, 1, 2], "a fleet spreads over the members (all 40 on two: 3 × (2/3)^40, under 1e-6)");
});

test('calls: "first" sends to the first member listed', async () => {
  const cluster = new FakeCluster(ids, "n2");
  cluster.on((req) => (req.path === "/api/v1/x" ? { status: 200, body: {} } : undefined));
  const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch, calls: "first", random: () => 0.7 });
  assert.equal(t.homeIndex, 0);
  const answer = await t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 });
  assert.equal(answer.member, "http://a");
});

test("a bad calls value is refused, naming it", () => {
  for (const bad of ["leader", "First", "", 3]) {
    assert.throws(
      () => new Transport({ members, requestTimeoutMs: 1000, calls: bad as any }),
      (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(JSON.stringify(bad)) && !e.message.includes("\n"),
    );
  }
});

test("learning the ids does not move the home to the leader; a call answered at a follower leaves it there", async () => {
  const cluster = new FakeCluster(ids, "n1");
  // every member serves, as a follower that forwards to the leader does
  cluster.on((req) => (req.path === "/api/v1/x" ? { status: 200, body: {} } : undefined));
  const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch, random: () => 0.7 });
  await t.learnMembers();
  assert.equal(t.homeIndex, 2, "/status names n1 the leader: the home stays");
  for (let i = 0; i < 3; i++) {
    const answer = await t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 });
    assert.equal(answer.member, "http://c");
  }
  assert.equal(t.homeIndex, 2);
  assert.deepEqual(new Set(cluster.sent.filter((s) => s.path === "/api/v1/x").map((s) => s.url)), new Set(["http://c"]));
});

test("the home moves on a network error, and stays at the member it moved to", async () => {
  const cluster = new FakeCluster(ids, "n1");
  let down = true;
  cluster.on((req) => (req.path === "/api/v1/x" ? (req.url === "http://b" && down ? "refuse" : { status: 200, body: {} }) : undefined));
  // 0.5: the home b (of three), then a (the second of the two others, counted on from c)
  const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch, random: () => 0.5 });
  const first = await t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 });
  assert.equal(first.member, "http://a");
  assert.equal(t.homeIndex, 0);
  down = false;
  await t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 });
  assert.deepEqual(cluster.sent.map((s) => s.url), ["http://b", "http://a", "http://a"]);
});

/** A `random` option that gives each of `values` in turn, and counts how many it gave. */
function script(...values: number[]): { random: () => number; given: () => number } {
  let i = 0;
  return {
    random: () => {
      assert.ok(i < values.length, "no more picks scripted");
      return values[i++];
    },
    given: () => i,
  };
}

test("a home that fails moves to the member the picker chooses among the others", async () => {
  // the home b fails; the picker chooses among the two others, counted on from the one after b: c, a
  for (const [r, moved] of [[0, "http://c"], [0.5, "http://a"]] as Array<[number, string]>) {
    const cluster = new FakeCluster(ids, "n1");
    cluster.on((req) => (req.path === "/api/v1/x" ? (req.url === "http://b" ? "refuse" : { status: 200, body: {} }) : undefined));
    const picks = script(0.5, r); // 0.5 of three: b; then r of two
    const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch, random: picks.random });
    assert.equal(t.homeIndex, 1);
    const answer = await t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 3000 });
    assert.deepEqual(cluster.sent.map((s) => s.url), ["http://b", moved], `pick ${r}`);
    assert.equal(answer.member, moved);
    assert.equal(t.homeAddress, moved, `pick ${r}`);
    assert.equal(picks.given(), 2, "one pick more, among the others");
  }
});

test("a home that fails never stays, and the clients of one member spread over the others", () => {
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32; // a seeded LCG
  const t = new Transport({ members, requestTimeoutMs: 1000, random });
  const moves = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const before = t.homeIndex;
    t.rotateFrom(before);
    assert.notEqual(t.homeIndex, before);
    moves.add(`${before}>${t.homeIndex}`);
  }
  // from each member, to each of the two others
  assert.deepEqual([...moves].sort(), ["0>1", "0>2", "1>0", "1>2", "2>0", "2>1"]);
  const home = t.homeIndex;
  t.rotateFrom((home + 1) % 3);
  assert.equal(t.homeIndex, home, "a member that is not the home failed: no move");
});

test('calls: "first": a home that fails moves to the next member listed', () => {
  const t = new Transport({ members, requestTimeoutMs: 1000, calls: "first", random: () => 0.9 });
  assert.equal(t.homeIndex, 0);
  t.rotateFrom(0);
  assert.equal(t.homeIndex, 1, "home 0 failed");
  t.rotateFrom(1);
  assert.equal(t.homeIndex, 2, "home 1 failed");
  t.rotateFrom(2);
  assert.equal(t.homeIndex, 0, "home 2, the last, failed: the first one");
});

test('calls: "first": members that fail in turn walk the home down the list, not back and forth', () => {
  // four members; member 0 fails, then member 1: the home goes on to member 2, not back to 0
  const t = new Transport({ members: [...members, "http://d"], requestTimeoutMs: 1000, calls: "first" });
  assert.equal(t.homeIndex, 0);
  t.rotateFrom(0);
  assert.equal(t.homeIndex, 1, "home 0 failed: the next one listed");
  t.rotateFrom(1);
  assert.equal(t.homeIndex, 2, "home 1 failed: the next one listed, not back to 0");
  t.rotateFrom(2);
  assert.equal(t.homeIndex, 3, "home 2 failed");
  t.rotateFrom(3);
  assert.equal(t.homeIndex, 0, "home 3, the last, failed: the first one");
});

test("a call still tries every member once a round, wherever the home moves", async () => {
  for (const options of [{ calls: "first" as const }, { random: () => 0.6 }, { random: Math.random }]) {
    const cluster = new FakeCluster(ids, "n1");
    cluster.on((req) => (req.path === "/api/v1/x" ? "refuse" : undefined));
    const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch, ...options });
    await assert.rejects(
      t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 500 }),
      (e: unknown) => e instanceof UnavailableError,
    );
    const tries = cluster.sent.filter((s) => s.path === "/api/v1/x").map((s) => s.url);
    const rounds = [];
    for (let i = 0; i + 3 <= tries.length; i += 3) rounds.push(tries.slice(i, i + 3));
    assert.ok(rounds.length >= 2, `tries ${tries}`);
    for (const round of rounds) assert.deepEqual([...round].sort(), members, `${JSON.stringify(options)}: rounds ${JSON.stringify(rounds)}`);
  }
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

/** A clock that moves only when the test moves it: {@link fireNext} jumps to the next timer and fires it. */
class ManualClock implements Clock {
  private t = 1_000_000;
  private seq = 0;
  private timers: Array<{ id: number; due: number; fn: () => void }> = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ id, due: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(timer: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== timer);
  }

  /** Moves to the earliest timer's due time and fires it; false when none is set. */
  fireNext(): boolean {
    if (this.timers.length === 0) return false;
    this.timers.sort((x, y) => x.due - y.due || x.id - y.id);
    const next = this.timers.shift()!;
    this.t = Math.max(this.t, next.due);
    next.fn();
    return true;
  }
}

test("past the deadline on the client's clock: ten minutes of it pass without ten minutes of waiting", async () => {
  const cluster = new FakeCluster({ "http://a": "n1" }, "n1");
  cluster.on(() => "refuse");
  const clock = new ManualClock();
  const t = new Transport({ members: ["http://a"], requestTimeoutMs: 100, fetch: cluster.fetch, clock });
  const from = clock.now();
  const started = Date.now();
  let settled = false;
  const call = t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 100, deadline: from + 600_000 });
  call.then(
    () => (settled = true),
    () => (settled = true),
  );
  let pauses = 0;
  while (!settled) {
    await new Promise((resolve) => setTimeout(resolve, 0)); // the call's real work: its refused exchange
    if (clock.fireNext()) pauses++;
  }
  await assert.rejects(call, (e: unknown) => e instanceof UnavailableError && /connection refused/.test(e.message));
  assert.ok(clock.now() - from >= 600_000, `gave up after ${clock.now() - from} ms of the clock`);
  assert.ok(pauses > 100, `the pauses between rounds were the clock's: ${pauses}`);
  assert.ok(Date.now() - started < 30_000, `and took ${Date.now() - started} ms of real time`);
});

test("a try with no answer times out and is described as such", async () => {
  const cluster = new FakeCluster({ "http://a": "n1" }, "n1");
  cluster.on((req) => (req.path === "/api/v1/x" ? "hang" : undefined));
  const t = new Transport({ members: ["http://a"], requestTimeoutMs: 50, fetch: cluster.fetch });
  await assert.rejects(
    t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 50, deadline: Date.now() + 200 }),
    /no answer within (\d+(h|m|s|ms))+/,
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

/**
 * An election: the three members answer 503 NOT_LEADER naming no leader, until `electAfterMs`
 * (if given), when c starts to lead. Records when each try of /api/v1/x was sent.
 */
function election(electAfterMs?: number) {
  const started = Date.now();
  const tries: Array<{ at: number; url: string }> = [];
  const state: { electedAt?: number } = {};
  const cluster = new FakeCluster(ids, "");
  cluster.on((req) => {
    if (req.path !== "/api/v1/x") return undefined;
    tries.push({ at: Date.now() - started, url: req.url });
    if (state.electedAt !== undefined && req.url === "http://c") return { status: 200, body: { ok: true } };
    return { status: 503, body: { error: { code: "NOT_LEADER", message: "no leader yet", leader: null } } };
  });
  if (electAfterMs !== undefined) setTimeout(() => (state.electedAt = Date.now()), electAfterMs);
  const t = new Transport({ members, requestTimeoutMs: 1000, fetch: cluster.fetch, calls: "first" });
  return { t, tries, state, started };
}

test("during an election the call goes round the members after short pauses and finds the new leader at once", async () => {
  const { t, tries, state } = election(500);
  const answer = await t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 5000 });
  const foundAfter = Date.now() - state.electedAt!;
  assert.equal(answer.member, "http://c");
  // the ordinary backoff (50 ms doubling to 1 s, one member a pause) reaches c again only after
  // five pauses, 775 ms at the least: 275 ms after the election
  assert.ok(foundAfter < 300, `found the new leader ${foundAfter} ms after its election`);
  assert.deepEqual(tries.slice(0, 3).map((s) => s.url), members, "a round, without pauses");
  // rounds of three, at least 10 ms apart (50 ms from the fourth): no busy loop
  assert.ok(tries.length <= 75, `${tries.length} tries`);
});

test("the ordinary backoff draws each pause between half and all of 50 ms doubling to 1 s", () => {
  // as the Java (RetryPolicy's equal jitter), Python and Go clients draw theirs; never above 1 s
  for (const [r, expected] of [
    [0, [25, 50, 100, 200, 400, 500, 500]],
    [0.999, [50, 100, 200, 400, 800, 1000, 1000]],
  ] as Array<[number, number[]]>) {
    const backoff = new Backoff(undefined, undefined, () => r);
    assert.deepEqual(Array.from({ length: 7 }, () => backoff.next()), expected, `random ${r}`);
    backoff.reset();
    assert.equal(backoff.next(), expected[0], "reset starts again from 50 ms");
  }
});

test("a leader search pauses 20 ms doubling to 100 ms, halved at most, for 3 s", () => {
  for (const r of [0, 0.5, 0.999]) {
    const search = new LeaderSearch(undefined, undefined, undefined, () => r);
    let now = 10_000;
    const pauses: number[] = [];
    for (let pause = search.next(now); pause !== undefined; pause = search.next(now)) {
      pauses.push(pause);
      now += pause + 3; // a round of three quick answers
    }
    assert.ok(pauses.every((p) => p >= 10 && p <= 100), `${pauses}`);
    assert.ok(pauses.slice(3).every((p) => p >= 50), `${pauses}`);
    assert.ok(now - 3 - 10_000 <= 3000 && now - 10_000 > 2800, `ended after ${now - 10_000} ms`);
    assert.equal(search.next(now + 500), undefined, "over for good");
  }
});

test("after 3 s of leader search the pauses grow again as the ordinary backoff", async () => {
  const { t, tries } = election();
  await assert.rejects(
    t.call({ method: "POST", path: "/api/v1/x", body: {}, attemptTimeoutMs: 1000, deadline: Date.now() + 5000 }),
    (e: unknown) => e instanceof UnavailableError,
  );
  const gaps = tries.slice(1).map((s, i) => ({ at: s.at, gap: s.at - tries[i].at }));
  const during = gaps.filter((g) => g.at < 2900).map((g) => g.gap);
  const after = gaps.filter((g) => g.at > 3200).map((g) => g.gap);
  // the ordinary backoff would have tried 10 times at most by 2.9 s, its sixth pause 500 ms or more
  assert.ok(during.length > 3 * 20, `${during.length} tries while the search lasts: ${during}`);
  assert.ok(Math.max(...during) < 400, `pauses while the search lasts: ${during}`);
  // the ordinary backoff starts again from 50 ms: its fifth pause (at least 400 ms) ends by 4.7 s
  assert.ok(Math.max(...after) > 350, `pauses once the search is over: ${after}`);
});
