// Keys, transactions and groups against the scripted cluster with keys (test/fake-keys.ts):
// request shapes, answers, retries with the same request id, errors, watches.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { Client } from "../src/client";
import { ConflictError, InvalidArgumentError, QuotaExceededError } from "../src/errors";
import { counterOf } from "../src/keys";
import { parseWatchPage } from "../src/watch";
import { FakeCluster } from "./fake";
import { FakeKeys } from "./fake-keys";
import { FakeLocks } from "./fake-locks";
import { next } from "./watching";

async function withKeys(
  body: (s: { cluster: FakeCluster; keys: FakeKeys; client: Client; other: Client; locks: FakeLocks }) => Promise<void>,
): Promise<void> {
  const cluster = new FakeCluster({ "http://a": "n1" }, "n1");
  const locks = new FakeLocks(cluster);
  const keys = new FakeKeys(cluster, locks);
  const options = { members: ["http://a"], fetch: cluster.fetch, requestTimeoutMs: 1000 };
  const client = await Client.connect(options);
  const other = await Client.connect(options);
  try {
    await body({ cluster, keys, client, other, locks });
  } finally {
    await Promise.all([client.close(), other.close()]);
  }
}

const sent = (cluster: FakeCluster, path: string) => cluster.sent.filter((s) => s.path === path).map((s) => s.body);

test("parse: a keys gap is a state with its keys; a deletion has its version and cause", () => {
  const page = parseWatchPage({ watch: "keys", name: "services/", gap: true, next: "9.0", events: [], keys: [{ key: "services/a", version: 2, value: "eA==", owner: "S" }] });
  assert.equal(page.events[0].type, "state");
  assert.deepEqual(
    page.events[0].keys.map((k) => [k.key, k.version, k.text, k.owner]),
    [["services/a", 2, "x", "S"]],
  );
  const del = parseWatchPage({ gap: false, next: "10.0", events: [{ type: "registerDeleted", name: "services/a", sessionId: "S", version: 2, cause: "sessionExpired", position: "10.0" }] });
  assert.deepEqual([del.events[0].type, del.events[0].version, del.events[0].cause, del.events[0].value], ["registerDeleted", 2, "sessionExpired", null]);
});

test("put, get and delete carry the session's request ids", async () => {
  await withKeys(async ({ cluster, client }) => {
    const keys = client.keys();
    assert.equal(await keys.put("config/x", "on", { attach: true, ttlMs: 5000 }), 1);
    const put = sent(cluster, "/api/v1/keys/put")[0];
    assert.deepEqual(
      [put.session, put.key, put.value, put.expectedVersion, put.attach, put.ttlMillis, put.requestId, put.ackedBelow],
      [client.sessionId, "config/x", "b24=", -1, true, 5000, 1, 1],
    );
    const e = await keys.get("config/x");
    assert.deepEqual([e?.version, e?.text, e?.owner], [1, "on", client.sessionId]);
    assert.equal(await keys.put("config/x", "off", { expectedVersion: 1 }), 2);
    assert.equal(sent(cluster, "/api/v1/keys/put")[1].attach, undefined);
    assert.equal((await keys.get("config/x"))?.owner, client.sessionId, "a put without a lifetime keeps the key's");
    assert.equal(await keys.put("config/x", "off", { detach: true }), 3);
    assert.equal(sent(cluster, "/api/v1/keys/put")[2].detach, true);
    assert.equal((await keys.get("config/x"))?.owner, null);
    await assert.rejects(keys.put("config/x", "x", { attach: true, detach: true }), InvalidArgumentError);
    assert.equal(await keys.delete("config/x", { expectedVersion: 3 }), 3);
    assert.equal(sent(cluster, "/api/v1/keys/delete")[0].requestId, 4);
    assert.equal(await keys.get("config/x"), null);
    assert.equal(await keys.delete("config/x"), 0);
  });
});

test("a put on a lease sends it with attach; bad ones are refused before sending", async () => {
  await withKeys(async ({ cluster, client }) => {
    const keys = client.keys();
    await keys.put("svc/a", "x", { lease: "LeaseSession0000000001" });
    const put = sent(cluster, "/api/v1/keys/put")[0];
    assert.deepEqual([put.lease, put.attach], ["LeaseSession0000000001", true]);
    await assert.rejects(keys.put("svc/b", "x", { lease: "" }), InvalidArgumentError);
    await assert.rejects(keys.put("svc/b", "x", { lease: "LeaseSession0000000001", detach: true }), InvalidArgumentError);
    await assert.rejects(keys.put("svc/b", "x", { lease: "LeaseSession0000000001", ttlMs: 5000 }), InvalidArgumentError);
    assert.equal(sent(cluster, "/api/v1/keys/put").length, 1, "a refused put is not sent");
  });
});

test("errors: a conflict with the current version, a quota, bad arguments before sending", async () => {
  await withKeys(async ({ cluster, keys: fake, client }) => {
    const keys = client.keys();
    await keys.put("k", "1");
    await assert.rejects(keys.put("k", "2", { expectedVersion: 0 }), (e: unknown) => e instanceof ConflictError && e.currentVersion === 1);
    await assert.rejects(keys.add("k", 1), InvalidArgumentError);
    fake.quota = 0;
    await assert.rejects(keys.put("q", "x", { attach: true }), QuotaExceededError);
    const before = cluster.sent.length;
    await assert.rejects(keys.put("", "x"), InvalidArgumentError);
    await assert.rejects(keys.put("x", "x", { ttlMs: 10 }), InvalidArgumentError);
    await assert.rejects(keys.delete("x", { expectedVersion: -2 }), InvalidArgumentError);
    await assert.rejects(keys.list("", { limit: 0 }), InvalidArgumentError);
    assert.equal(cluster.sent.length, before);
  });
});

test("add counts in one step; list pages and scan reads them all", async () => {
  await withKeys(async ({ client }) => {
    const keys = client.keys();
    assert.equal(await keys.add("stats/runs", 5), 5);
    assert.equal(await keys.add("stats/runs", -2), 3);
    assert.equal(counterOf((await keys.get("stats/runs"))!), 3n);
    for (const n of ["svc/0", "svc/1", "svc/2", "other"]) await keys.put(n, n);
    const page = await keys.list("svc/", { limit: 2 });
    assert.deepEqual([page.entries.map((e) => e.key), page.more, page.next], [["svc/0", "svc/1"], true, "svc/1"]);
    assert.ok(page.position);
    const all: string[] = [];
    for await (const e of keys.scan("svc/", { page: 2 })) all.push(e.key);
    assert.deepEqual(all, ["svc/0", "svc/1", "svc/2"]);
  });
});

test("deletePrefix pages until nothing is left and refuses an empty prefix; keysOnly sends no values", async () => {
  await withKeys(async ({ cluster, client }) => {
    const keys = client.keys();
    for (const n of ["svc/0", "svc/1", "svc/2", "svc/3", "svc/4", "svd"]) await keys.put(n, n);
    const only = await keys.list("svc/", { limit: 2, keysOnly: true });
    assert.deepEqual(only.entries.map((e) => [e.key, e.version, e.value.length]), [["svc/0", 1, 0], ["svc/1", 1, 0]]);
    assert.equal((await keys.list("svc/", { limit: 1 })).entries[0].value.length, 5);
    assert.equal(await keys.deletePrefix("svc/", { page: 2 }), 5);
    const pages = sent(cluster, "/api/v1/keys/delete-prefix");
    assert.deepEqual(pages.map((p) => [p.prefix, p.limit]), [["svc/", 2], ["svc/", 2], ["svc/", 2]]);
    assert.equal(new Set(pages.map((p) => p.requestId)).size, 3);
    assert.deepEqual((await keys.list("sv")).entries.map((e) => e.key), ["svd"]);
    await assert.rejects(keys.deletePrefix(""), (e: Error) =>
      e instanceof InvalidArgumentError && e.message === "holdfast: a prefix delete needs a prefix: deleting every key at once is not offered");
    assert.equal(sent(cluster, "/api/v1/keys/delete-prefix").length, 3);
  });
});

test("a transaction runs one branch and answers each op; a refused op names its place", async () => {
  await withKeys(async ({ cluster, client }) => {
    const keys = client.keys();
    await keys.put("acct/a", "10");
    const txn = {
      compares: [
        { type: "version" as const, key: "acct/a", order: "equal" as const, version: 1 },
        { type: "absent" as const, key: "acct/b" },
      ],
      then: [
        { type: "put" as const, key: "acct/a", value: "4" },
        { type: "put" as const, key: "acct/b", value: "6", attach: true },
        { type: "add" as const, key: "acct/moves", delta: 1 },
        { type: "get" as const, key: "acct/a" },
      ],
      otherwise: [{ type: "get" as const, key: "acct/a" }],
    };
    const r = await keys.commit(txn);
    assert.equal(r.succeeded, true);
    assert.deepEqual(r.results.map((x) => x.version), [2, 1, 1, 2]);
    assert.equal(r.results[2].counter, 1);
    assert.equal(new TextDecoder().decode(r.results[3].value!), "4");
    const body = sent(cluster, "/api/v1/txn")[0];
    assert.deepEqual(body.compares[0], { type: "version", key: "acct/a", order: "equal", version: 1 });
    assert.equal(body.then[1].attach, true);
    const again = await keys.commit(txn);
    assert.equal(again.succeeded, false);
    assert.equal(new TextDecoder().decode(again.results[0].value!), "4");
    await assert.rejects(
      keys.commit({ then: [{ type: "put", key: "n", value: "x" }, { type: "delete", key: "n2", expectedVersion: 3 }] }),
      (e: unknown) => e instanceof ConflictError && e.message.startsWith("then op 2:"),
    );
    assert.equal(await keys.get("n"), null);
  });
});

test("a transaction retried after a lost answer applies once", async () => {
  await withKeys(async ({ cluster, keys: fake, client }) => {
    fake.dropNext.set("/api/v1/txn", 1);
    const r = await client.keys().commit({ compares: [{ type: "absent", key: "once" }], then: [{ type: "add", key: "once", delta: 1 }] });
    assert.equal(r.succeeded, true, "the first answer, not a second run's");
    assert.equal(r.results[0].counter, 1);
    const txns = sent(cluster, "/api/v1/txn");
    assert.equal(txns.length, 2);
    assert.equal(txns[0].requestId, txns[1].requestId);
  });
});

test("a keys state the server cut to fit a frame is completed by listing before the changes", async () => {
  await withKeys(async ({ client, locks }) => {
    for (let i = 0; i < 5; i++) await client.keys().put(`big/${i}`, `v${i}`);
    locks.stateLimit = 2; // the server cut the state: "more"
    const w = client.keys().watch("big/");
    try {
      const state = await next(w);
      assert.equal(state.type, "state");
      assert.deepEqual(state.keys.map((k) => `${k.key}=${k.text}`), ["big/0=v0", "big/1=v1", "big/2=v2", "big/3=v3", "big/4=v4"]);
      await client.keys().put("big/5", "v5");
      const set = await next(w);
      assert.deepEqual([set.type, set.name], ["registerSet", "big/5"]);
    } finally {
      await w.close();
    }
  });
});

test("a group joins, lists and watches its members; an expiry is told with its cause", async () => {
  await withKeys(async ({ keys: fake, client, other }) => {
    const group = client.keys().group("services/web");
    await other.keys().group("services/web").join("i-1", "10.0.0.1:80");
    const w = group.watch();
    try {
      const state = await next(w);
      assert.deepEqual(state.keys.map((k) => [group.member(k.key), k.text, k.owner]), [["i-1", "10.0.0.1:80", other.sessionId]]);
      await group.join("i-2", "10.0.0.2:80");
      await client.keys().put("services/db/x", "not watched");
      const joined = await next(w);
      assert.deepEqual([joined.type, group.member(joined.name)], ["registerSet", "i-2"]);
      assert.deepEqual([...(await group.members()).keys()], ["i-1", "i-2"]);
      fake.endSession(other.sessionId, "sessionExpired");
      const left = await next(w);
      assert.deepEqual([left.type, group.member(left.name), left.cause, left.version], ["registerDeleted", "i-1", "sessionExpired", 1]);
      assert.equal(await group.leave("i-2"), true);
      const gone = await next(w);
      assert.deepEqual([gone.type, gone.cause], ["registerDeleted", undefined]);
      await assert.rejects(group.join("a/b"), InvalidArgumentError);
    } finally {
      await w.close();
    }
  });
});

test("a member name belongs to one live session: another's join is refused naming the holder", async () => {
  await withKeys(async ({ keys: fake, client, other }) => {
    const mine = client.keys().group("services/web");
    const theirs = other.keys().group("services/web");
    await theirs.join("i-1", "10.0.0.1:80");
    assert.equal(await theirs.join("i-1", "10.0.0.1:81"), 2, "the holder joining again writes its new value");
    await assert.rejects(
      mine.join("i-1", "10.0.0.2:80"),
      (e: unknown) =>
        e instanceof ConflictError &&
        e.holder === other.sessionId &&
        e.currentVersion === 2 &&
        e.message === `member i-1 of group services/web is held by session ${other.sessionId}`,
    );
    assert.equal(await mine.leave("i-1"), false, "another session's leave deletes nothing");
    const kept = await client.keys().get("services/web/i-1");
    assert.deepEqual([kept?.owner, kept?.text], [other.sessionId, "10.0.0.1:81"]);
    fake.endSession(other.sessionId, "sessionExpired");
    assert.equal(await mine.join("i-1", "10.0.0.2:80"), 1, "free once the holder's session ended");
    await client.keys().put("services/web/plain", "no session");
    await assert.rejects(mine.join("plain"), (e: unknown) => e instanceof ConflictError && e.holder === null && e.message.endsWith("held by no session"));
  });
});
