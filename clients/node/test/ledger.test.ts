import { test } from "node:test";
import * as assert from "node:assert/strict";
import { RequestLedger } from "../src/ledger";

test("numbers run 1, 2, 3 and ackedBelow includes the request being sent", () => {
  const l = new RequestLedger();
  assert.equal(l.ackedBelow(), 1);
  const a = l.begin();
  assert.equal(a, 1);
  assert.equal(l.ackedBelow(), 1);
  const b = l.begin();
  assert.equal(b, 2);
  assert.equal(l.ackedBelow(), 1);
});

test("ackedBelow is the lowest outstanding number", () => {
  const l = new RequestLedger();
  const [a, b, c] = [l.begin(), l.begin(), l.begin()];
  l.settle(b);
  assert.equal(l.ackedBelow(), a, "1 is still outstanding");
  l.settle(a);
  assert.equal(l.ackedBelow(), c, "2 was settled before, so the low mark jumps to 3");
  l.settle(c);
  assert.equal(l.ackedBelow(), 4, "none outstanding: the next number");
  assert.equal(l.size, 0);
});

test("a long wait keeps ackedBelow down while later requests settle", () => {
  const l = new RequestLedger();
  const wait = l.begin();
  for (let i = 0; i < 5; i++) l.settle(l.begin());
  assert.equal(l.ackedBelow(), wait);
  assert.ok(l.isOutstanding(wait));
  l.settle(wait);
  assert.equal(l.ackedBelow(), 7);
});

test("settling twice or settling an unknown number is harmless; ackedBelow never decreases", () => {
  const l = new RequestLedger();
  const a = l.begin();
  l.settle(a);
  l.settle(a);
  l.settle(99);
  assert.equal(l.ackedBelow(), 2);
  let last = l.ackedBelow();
  const open: number[] = [];
  for (let i = 0; i < 200; i++) {
    if (open.length > 0 && (i * 7) % 3 === 0) l.settle(open.splice((i * 13) % open.length, 1)[0]);
    else open.push(l.begin());
    const now = l.ackedBelow();
    assert.ok(now >= last, "never decreases");
    for (const n of open) assert.ok(now <= n, "never above an outstanding number");
    last = now;
  }
});
