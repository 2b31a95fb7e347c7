// The next event of a watch, for the tests: fails when none comes within `ms`, or the watch ends.
import * as assert from "node:assert/strict";
import type { Watch, WatchEvent } from "../src/watch";

export async function next(w: Watch, ms = 3000): Promise<WatchEvent> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([w.next(), new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), ms)))]);
  clearTimeout(timer);
  if (r === "timeout") assert.fail(`no event within ${ms} ms`);
  if (r.done) assert.fail("the watch ended");
  return r.value;
}
