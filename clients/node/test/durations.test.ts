import { test } from "node:test";
import * as assert from "node:assert/strict";
import { formatDuration } from "../src/durations";

test("durations are printed as people write them, as the server and the Java client print them", () => {
  assert.equal(formatDuration(10_000), "10s");
  assert.equal(formatDuration(500), "500ms");
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(1_500), "1s500ms");
  assert.equal(formatDuration(86_400_000), "24h");
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(0.4), "<1ms");
  assert.equal(formatDuration(2_000.4), "2s");
});
