import { test } from "node:test";
import * as assert from "node:assert/strict";
import { interpretEvents } from "../src/events";

const held = [
  { name: "jobs/nightly", token: 42 },
  { name: "orders/7", token: 43 },
];

test("lost events name the grant and the reason; next is where to resume", () => {
  const answer = JSON.parse(`{"sessionId":"AbC","next":"731.1","gap":false,"events":[
    {"type":"granted","position":"730.0","name":"orders/7","token":43,"requestId":9},
    {"type":"lost","position":"731.0","name":"jobs/nightly","token":42,"reason":"revoked"},
    {"type":"lost","position":"731.1","name":"x","token":7,"reason":"leaseTimeout"}]}`);
  const o = interpretEvents(answer, held);
  assert.equal(o.next, "731.1");
  assert.equal(o.gap, false);
  assert.equal(o.expired, false);
  assert.deepEqual(o.losses, [
    { name: "jobs/nightly", token: 42, reason: "revoked" },
    { name: "x", token: 7, reason: "leaseTimeout" },
  ]);
});

test("an unknown reason is reported as unknown", () => {
  const o = interpretEvents({ next: "1.0", events: [{ type: "lost", name: "a", token: 1, reason: "meteor" }] }, []);
  assert.deepEqual(o.losses, [{ name: "a", token: 1, reason: "unknown" }]);
});

test("sessionExpired expires; sessionClosed ends the stream", () => {
  assert.equal(interpretEvents({ next: "2.0", events: [{ type: "sessionExpired", position: "2.0" }] }, held).expired, true);
  const closed = interpretEvents({ next: "3.0", events: [{ type: "sessionClosed", position: "3.0" }] }, held);
  assert.equal(closed.closed, true);
  assert.equal(closed.expired, false);
});

test("an empty answer (the poll's wait ran out) changes nothing but the position", () => {
  const o = interpretEvents({ sessionId: "AbC", events: [], next: "900.0", gap: false }, held);
  assert.deepEqual(o, { next: "900.0", losses: [], expired: false, closed: false, gap: false });
});

test("a gap: every grant held that state.holds does not list (same name and token) is lost as unknown", () => {
  const answer = JSON.parse(`{"sessionId":"AbC","gap":true,"next":"812.0","events":[],
    "state":{"exists":true,"holds":[{"name":"jobs/nightly","token":42,"mode":"exclusive","permits":1},
                                     {"name":"orders/7","token":99,"mode":"exclusive","permits":1}],
             "waits":[{"name":"orders/8","requestId":9}]}}`);
  const o = interpretEvents(answer, held);
  assert.equal(o.gap, true);
  assert.equal(o.next, "812.0");
  assert.equal(o.expired, false);
  assert.deepEqual(o.losses, [{ name: "orders/7", token: 43, reason: "unknown" }], "same name, other token: lost");
});

test("a gap whose state says the session no longer exists expires it", () => {
  const o = interpretEvents({ gap: true, next: "5.0", events: [], state: { exists: false, holds: [], waits: [] } }, held);
  assert.equal(o.expired, true);
  assert.deepEqual(
    o.losses.map((l) => l.reason),
    ["sessionExpired", "sessionExpired"],
  );
});
