// The client's limits are the shared ones: clients/vectors/limits.json, which the Java API's, the
// Python client's and the Go client's tests read too.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_VALUE_BYTES } from "../src/election";
import { ANY_VERSION, MAX_PAGE, MAX_TTL_MS, MAX_TXN_OPS, MIN_TTL_MS } from "../src/keys";
import { REJOIN_CAP_MS, REJOIN_FIRST_MS, RENEW_CAP_MS, RENEW_FIRST_MS } from "../src/renew";

interface Limit {
  name: string;
  value: number;
  clients: string[];
}

test("the constants equal the shared limits that name this client (clients/vectors/limits.json)", () => {
  const file = join(__dirname, "..", "..", "..", "..", "vectors", "limits.json");
  const limits: Limit[] = JSON.parse(readFileSync(file, "utf8")).limits;
  const shared = Object.fromEntries(limits.filter((l) => l.clients.includes("node")).map((l) => [l.name, l.value]));
  assert.ok(Object.keys(shared).length > 0);
  const ours = {
    anyVersion: ANY_VERSION,
    maxTxnOps: MAX_TXN_OPS,
    maxPage: MAX_PAGE,
    minKeyTtlMillis: MIN_TTL_MS,
    maxKeyTtlMillis: MAX_TTL_MS,
    maxLeaderValueBytes: MAX_VALUE_BYTES,
    sessionRenewalFirstMillis: RENEW_FIRST_MS,
    sessionRenewalCapMillis: RENEW_CAP_MS,
    rejoinFirstMillis: REJOIN_FIRST_MS,
    rejoinCapMillis: REJOIN_CAP_MS,
  };
  assert.deepEqual(ours, shared);
});
