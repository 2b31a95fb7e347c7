// Against a real server: runs when HOLDFAST_JAR names the server jar, skipped (with the reason
// printed) otherwise. Starts one node on ports HOLDFAST_IT_PORT..+2 (default 22100..22102) with a
// fresh data directory, and kills it at the end. Covers locks, waits, revokes, retries, leases,
// registers, semaphores, watches (each change with its cause, awaitFree) and elections.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../src/client";
import { ConflictError, LockTimeoutError } from "../src/errors";
import type { FetchLike } from "../src/transport";

const jar = process.env.HOLDFAST_JAR;
const skip = jar ? false : "HOLDFAST_JAR is not set (point it at the server jar to run the integration test)";
if (!jar) console.log(`# integration test skipped: ${skip}`);

const base = Number(process.env.HOLDFAST_IT_PORT ?? 22100);
const http = `http://127.0.0.1:${base + 2}`;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await delay(20);
  }
}

async function lockView(name: string): Promise<any> {
  const res = await fetch(`${http}/api/v1/locks/${name}`);
  const body = await res.json();
  return res.status === 200 ? body.lock : { holders: [], waiters: [] };
}

describe("integration against a real server", { skip }, () => {
  let server: ChildProcess | undefined;
  let dataDir = "";
  let output = "";
  const clients: Client[] = [];

  async function connect(extra: Partial<Parameters<typeof Client.connect>[0]> = {}): Promise<Client> {
    const c = await Client.connect({ members: [http], ttlMs: 5000, clientName: "node-it", ...extra });
    clients.push(c);
    return c;
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "holdfast-node-it-"));
    server = spawn(
      "java",
      [
        "-XX:+UseSerialGC",
        "-jar",
        jar!,
        "server",
        "--data-dir",
        join(dataDir, "n1"),
        "--client-port",
        String(base),
        "--raft-port",
        String(base + 1),
        "--http-port",
        String(base + 2),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    server.stdout?.on("data", (d) => (output += String(d)));
    server.stderr?.on("data", (d) => (output += String(d)));
    await waitUntil(
      "GET /ready to answer 200",
      async () => {
        if (server!.exitCode !== null) assert.fail(`the server exited: ${output.slice(-2000)}`);
        try {
          return (await fetch(`${http}/ready`)).status === 200;
        } catch {
          return false;
        }
      },
      60_000,
    );
  }, { timeout: 70_000 });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    if (server && server.exitCode === null) {
      const exited = new Promise<void>((resolve) => server!.on("exit", () => resolve()));
      server.kill("SIGTERM");
      await Promise.race([exited, delay(5000)]);
      if (server.exitCode === null) server.kill("SIGKILL");
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("open, acquire, release", async () => {
    const c = await connect();
    assert.match(c.sessionId, /^[A-Za-z0-9_-]{22,128}$/);
    const lease = await c.acquire("it/basic");
    assert.ok(lease.fencingToken > 0);
    const view = await lockView("it/basic");
    assert.equal(view.holders.length, 1);
    assert.equal(view.holders[0].token, lease.fencingToken);
    assert.equal(await c.isCurrent("it/basic", lease.fencingToken), true);
    await lease.release();
    assert.equal(lease.valid, false);
    assert.equal((await lockView("it/basic")).holders.length, 0);
    assert.equal(await c.isCurrent("it/basic", lease.fencingToken), false);
  });

  test("a wait is granted when the holder releases; a short wait times out", async () => {
    const a = await connect();
    const b = await connect();
    const held = await a.acquire("it/wait");
    const started = Date.now();
    await assert.rejects(b.acquire("it/wait", { waitMs: 300 }), LockTimeoutError);
    assert.ok(Date.now() - started >= 250, "the wait lasted");
    const pending = b.acquire("it/wait", { waitMs: 10_000 });
    await delay(300);
    const releasedAt = Date.now();
    await held.release();
    const granted = await pending;
    assert.ok(Date.now() - releasedAt < 1000);
    assert.ok(granted.fencingToken > held.fencingToken);
    await granted.release();
  });

  test("a revoke is reported to the loss callback within a second", async () => {
    const c = await connect();
    const lease = await c.acquire("it/revoke");
    const reasons: string[] = [];
    lease.onLost((r) => reasons.push(r));
    const revokedAt = Date.now();
    const res = await fetch(`${http}/api/v1/revoke`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "it/revoke" }),
    });
    assert.equal(res.status, 200);
    await waitUntil("the loss callback", () => reasons.length > 0, 1000);
    assert.ok(Date.now() - revokedAt < 1000);
    assert.deepEqual(reasons, ["revoked"]);
    assert.equal(lease.valid, false);
    await lease.release(); // not an error after a loss
  });

  test("a lost answer is retried with the same request id: one grant, one token", async () => {
    const sent: string[] = [];
    let dropped = false;
    const dropping: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      if (url.endsWith("/api/v1/acquire")) {
        sent.push(init.body!);
        if (!dropped) {
          dropped = true;
          await res.text();
          throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
        }
      }
      return res;
    };
    const c = await connect({ fetch: dropping });
    const lease = await c.acquire("it/retry", { waitMs: 1000 });
    assert.equal(sent.length, 2);
    assert.equal(sent[0], sent[1], "the same request, the same requestId");
    const view = await lockView("it/retry");
    assert.equal(view.holders.length, 1);
    assert.equal(view.holders[0].token, lease.fencingToken);
    assert.equal(view.holders[0].holdCount, 1);
    await lease.release();
  });

  test("aborting a wait withdraws it from the queue", async () => {
    const a = await connect();
    const b = await connect();
    const held = await a.acquire("it/abort");
    const controller = new AbortController();
    const pending = b.acquire("it/abort", { waitMs: 20_000, signal: controller.signal });
    await waitUntil("the waiter to queue", async () => (await lockView("it/abort")).waiters.length === 1, 3000);
    controller.abort();
    await assert.rejects(pending, (e: any) => e?.name === "AbortError");
    await waitUntil("the waiter to leave", async () => (await lockView("it/abort")).waiters.length === 0, 3000);
    await held.release();
  });

  test("a lease with a timeout stays held while renewed", async () => {
    const c = await connect();
    const lease = await c.acquire("it/lease", { leaseMs: 1000 });
    await delay(2500);
    assert.equal(lease.valid, true);
    assert.equal((await lockView("it/lease")).holders[0]?.token, lease.fencingToken);
    await lease.release();
  });

  test("registers: compare-and-set, fenced; CONFLICT names the current version", async () => {
    const c = await connect();
    const reg = c.register("it/config");
    assert.deepEqual(await reg.get(), { version: 0, value: null, text: null });
    const lease = await c.acquire("it/config-lock");
    assert.equal(await reg.compareAndSet(0, "one", { fence: lease }), 1);
    await assert.rejects(reg.compareAndSet(0, "two"), (e: unknown) => e instanceof ConflictError && e.currentVersion === 1);
    assert.equal((await reg.get()).text, "one");
    await lease.release();
  });

  test("semaphores and acquire-all", async () => {
    const c = await connect();
    const other = await connect();
    const p1 = await c.semaphore("it/pool", 2, 3);
    await assert.rejects(other.semaphore("it/pool", 2, 3), LockTimeoutError);
    const p2 = await other.semaphore("it/pool", 1, 3);
    await p2.release();
    const set = await c.acquireAll(["it/m/b", "it/m/a"]);
    assert.deepEqual(Object.keys(set.tokens).sort(), ["it/m/a", "it/m/b"]);
    await set.release();
    await p1.release();
  });

  test("a watch tells the state, then each change with its cause; awaitFree", async () => {
    const w = await connect();
    const a = await connect();
    const b = await connect();
    const watch = w.watch("it/watched");
    const reg = w.watch({ register: "it/watched-reg" });
    const next = async (x: typeof watch) => {
      const r = await x.next();
      assert.equal(r.done, false);
      return r.value!;
    };
    const state = await next(watch);
    assert.deepEqual([state.type, state.locks], ["state", []]);
    assert.equal((await next(reg)).version, 0);
    const held = await a.acquire("it/watched");
    const waiting = b.acquire("it/watched", { waitMs: 10_000 });
    const events = [await next(watch), await next(watch)];
    await held.release();
    const granted = await waiting;
    const res = await fetch(`${http}/api/v1/revoke`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "it/watched" }) });
    assert.equal(res.status, 200);
    events.push(await next(watch), await next(watch), await next(watch));
    assert.deepEqual(
      events.map((e) => [e.type, e.token, e.cause, e.sessionId]),
      [
        ["acquired", held.fencingToken, undefined, a.sessionId],
        ["queued", 0, undefined, b.sessionId],
        ["released", held.fencingToken, "released", a.sessionId],
        ["acquired", granted.fencingToken, undefined, b.sessionId],
        ["released", granted.fencingToken, "revoked", b.sessionId],
      ],
    );
    assert.equal(await a.register("it/watched-reg").compareAndSet(0, "one"), 1);
    const set = await next(reg);
    assert.deepEqual([set.type, set.version, new TextDecoder().decode(set.value!)], ["registerSet", 1, "one"]);
    watch.close();
    reg.close();
    assert.equal(await w.awaitFree("it/watched", 0), true);
    const again = await a.acquire("it/watched");
    assert.equal(await w.awaitFree("it/watched", 200), false);
    setTimeout(() => void again.release(), 300);
    assert.equal(await w.awaitFree("it/watched", 10_000), true);
  });

  test("an election: one leads with its token as epoch, the next with a higher one", async () => {
    const a = await connect();
    const b = await connect();
    assert.equal(await b.election("it/elect").leader(), null);
    const first = await a.election("it/elect").campaign("A");
    assert.deepEqual(await b.election("it/elect").leader(), { election: "it/elect", epoch: first.epoch, value: "A" });
    const view = await (await fetch(`${http}/api/v1/elections/it/elect`)).json();
    assert.deepEqual([view.election.epoch, view.election.value], [first.epoch, "A"]);
    const second = b.election("it/elect").campaign("B", { waitMs: 10_000 });
    await waitUntil("the second candidate to queue", async () => (await lockView("it/elect")).waiters.length === 1, 3000);
    await first.resign();
    const leading = await second;
    assert.ok(leading.epoch > first.epoch);
    assert.deepEqual(await a.election("it/elect").leader(), { election: "it/elect", epoch: leading.epoch, value: "B" });
    await assert.rejects(a.register("it/elect").compareAndSet(2, "x", { fence: first.lease }), ConflictError);
    await leading.resign();
    assert.equal(await a.election("it/elect").leader(), null);
  });

  test("close ends the session at the server", async () => {
    const c = await connect();
    const lease = await c.acquire("it/close");
    await c.close();
    assert.equal(lease.valid, false);
    assert.equal((await lockView("it/close")).holders.length, 0);
  });
});
