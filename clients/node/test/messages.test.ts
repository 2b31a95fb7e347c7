// The client words a refusal as the Java API does: clients/vectors/messages.json, which the Java
// API's tests (CountersTest, ExpectedVersionsTest) and the Python and Go clients' tests read too.
// This client words exactly the messages that name "node"; its test servers (test/fake-keys.ts,
// test/fake-locks.ts) word the others as the server does.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "../src/client";
import { ConflictError, InvalidArgumentError } from "../src/errors";
import { counterOf } from "../src/keys";
import { FakeCluster } from "./fake";
import { FakeKeys } from "./fake-keys";
import { FakeLocks } from "./fake-locks";

interface Example {
  key: string;
  message: string;
  valueBytes?: number;
  version?: number;
  expected?: number;
}

interface Message {
  name: string;
  clients: string[];
  examples: Example[];
}

function messages(): Map<string, Message> {
  const file = join(__dirname, "..", "..", "..", "..", "vectors", "messages.json");
  const all: Message[] = JSON.parse(readFileSync(file, "utf8")).messages;
  return new Map(all.map((m) => [m.name, m]));
}

test("the client words exactly the messages that name it (clients/vectors/messages.json)", () => {
  const ours = [...messages().values()].filter((m) => m.clients.includes("node")).map((m) => m.name);
  assert.deepEqual(ours, ["notACounter"]);
});

test("a value of another length is no counter, in the shared words", () => {
  const examples = messages().get("notACounter")!.examples;
  assert.ok(examples.length > 0);
  for (const e of examples) {
    const value = new Uint8Array(e.valueBytes!);
    const entry = { key: e.key, version: 1, value, text: "", owner: null };
    assert.throws(() => counterOf(entry), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.message, "holdfast: " + e.message);
      return true;
    });
  }
});

test("the test servers word a conflict and an add to no counter as the server does", async () => {
  const cluster = new FakeCluster({ "http://a": "n1" }, "n1");
  new FakeKeys(cluster, new FakeLocks(cluster));
  const client = await Client.connect({ members: ["http://a"], fetch: cluster.fetch, requestTimeoutMs: 1000 });
  try {
    const keys = client.keys();
    for (const e of messages().get("versionConflict")!.examples) {
      for (let n = 0; n < e.version!; n++) await keys.put(e.key, "x");
      await assert.rejects(keys.put(e.key, "y", { expectedVersion: e.expected }), (err: unknown) => {
        assert.ok(err instanceof ConflictError);
        assert.deepEqual([err.message, err.currentVersion], [e.message, e.version]);
        return true;
      });
      const register = client.register("r/" + e.key);
      for (let n = 0; n < e.version!; n++) await register.compareAndSet(n, "x");
      await assert.rejects(register.compareAndSet(e.expected!, "y"), (err: unknown) => {
        assert.ok(err instanceof ConflictError);
        assert.equal(err.message, "r/" + e.message);
        return true;
      });
    }
    for (const e of messages().get("notACounter")!.examples) {
      await keys.put(e.key, new Uint8Array(e.valueBytes!));
      await assert.rejects(keys.add(e.key, 1), (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError);
        assert.equal(err.message, e.message);
        return true;
      });
    }
  } finally {
    await client.close();
  }
});
