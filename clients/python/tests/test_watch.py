"""Watches: the answer parser (canned JSON of protocol.md) and Client.watch / await_free against
the in-process imitation of the protocol (tests/fakecluster.py)."""

import threading
import time
import unittest

from holdfast import errors
from holdfast.watch import ACQUIRED, QUEUED, REGISTER_SET, RELEASED, STATE, WAIT_ENDED, \
    WatchEvent, parse_watch_page

from .fakecluster import FakeClusterCase


class ParseWatchPageTest(unittest.TestCase):
    def test_a_lock_gap_is_a_state_at_next(self):
        page = parse_watch_page({
            "watch": "lock", "name": "jobs/nightly", "gap": True, "next": "915.0", "events": [],
            "locks": [{"name": "jobs/nightly", "semaphore": False, "maxPermits": 1,
                       "holders": [{"sessionId": "S", "token": 42, "mode": "exclusive",
                                    "permits": 1, "clientName": "c"}],
                       "waiters": [{"sessionId": "T", "mode": "exclusive", "permits": 1}]}]})
        self.assertTrue(page.gap)
        self.assertEqual(page.next, "915.0")
        [state] = page.events
        self.assertEqual((state.type, state.name, state.position), (STATE, "jobs/nightly", "915.0"))
        self.assertEqual(state.holders, [42])
        self.assertEqual(state.locks[0].holders[0].session_id, "S")
        self.assertEqual(state.locks[0].waiters[0].session_id, "T")

    def test_a_register_gap_has_its_version_and_value(self):
        page = parse_watch_page({"watch": "register", "name": "config/x", "gap": True,
                                 "next": "915.0", "events": [],
                                 "register": {"key": "config/x", "version": 3, "value": "aGVsbG8="}})
        self.assertEqual(page.events, [WatchEvent(STATE, "config/x", version=3, value=b"hello",
                                                  position="915.0")])
        never = parse_watch_page({"name": "k", "gap": True, "next": "1.0",
                                  "register": {"key": "k", "version": 0, "value": None}})
        self.assertEqual((never.events[0].version, never.events[0].value), (0, None))

    def test_changes_in_order_unknown_types_left_out(self):
        page = parse_watch_page({"watch": "prefix", "name": "jobs/", "gap": False, "next": "20.1",
                                 "events": [
            {"type": "queued", "name": "jobs/a", "sessionId": "T", "mode": "exclusive", "position": "11.1"},
            {"type": "acquired", "name": "jobs/a", "sessionId": "S", "token": 7, "mode": "exclusive", "position": "12.1"},
            {"type": "somethingNew", "name": "jobs/a", "position": "13.1"},
            {"type": "released", "name": "jobs/a", "sessionId": "S", "token": 7, "mode": "exclusive",
             "cause": "revoked", "position": "14.1"},
            {"type": "waitEnded", "name": "jobs/a", "sessionId": "T", "mode": "exclusive",
             "cause": "timedOut", "position": "15.1"},
            {"type": "registerSet", "name": "jobs/a", "sessionId": "S", "version": 2, "value": "eA==",
             "position": "20.1"}]})
        self.assertFalse(page.gap)
        self.assertEqual([e.type for e in page.events],
                         [QUEUED, ACQUIRED, RELEASED, WAIT_ENDED, REGISTER_SET])
        self.assertEqual((page.events[2].token, page.events[2].cause), (7, "revoked"))
        self.assertEqual((page.events[4].version, page.events[4].value), (2, b"x"))
        self.assertEqual([e.position for e in page.events], ["11.1", "12.1", "14.1", "15.1", "20.1"])

    def test_not_an_object_is_refused(self):
        with self.assertRaises(ValueError):
            parse_watch_page(["not", "an", "object"])


class WatchAgainstFakeTest(FakeClusterCase):
    MEMBERS = 3

    def setUp(self):
        super().setUp()
        self.client = self.new_client()
        self.other = self.new_client()

    def next(self, watch, timeout=3.0):
        event = watch.next_event(timeout)
        self.assertIsNotNone(event, "no event within %.1f s" % timeout)
        return event

    def test_the_state_first_then_every_change_in_order(self):
        held = self.other.acquire("jobs/a")
        with self.client.watch("jobs/a") as w:
            state = self.next(w)
            self.assertEqual((state.type, state.holders), (STATE, [held.fencing_token]))
            held.release()
            second = self.other.acquire("jobs/a")
            self.other.acquire("jobs/b").release()  # another lock: not told
            self.cluster.revoke("jobs/a")
            got = [self.next(w) for _ in range(3)]
            self.assertEqual([(e.type, e.token, e.cause) for e in got], [
                (RELEASED, held.fencing_token, "released"),
                (ACQUIRED, second.fencing_token, None),
                (RELEASED, second.fencing_token, "revoked")])
            self.assertEqual(got[1].session_id, self.other.session_id)
            self.assertEqual(w.position, got[2].position)
            self.assertIsNone(w.next_event(0.3), "nothing else happened to jobs/a")

    def test_a_prefix_and_a_register(self):
        with self.client.watch(prefix="jobs/") as jobs, self.client.watch(register="cfg/x") as reg:
            self.assertEqual(self.next(jobs).locks, [])
            state = self.next(reg)
            self.assertEqual((state.type, state.version, state.value), (STATE, 0, None))
            self.other.acquire("other/x")
            a = self.other.acquire("jobs/a")
            e = self.next(jobs)
            self.assertEqual((e.type, e.name, e.token), (ACQUIRED, "jobs/a", a.fencing_token))
            self.other.register("cfg/x").compare_and_set(0, "one")
            e = self.next(reg)
            self.assertEqual((e.type, e.version, e.value), (REGISTER_SET, 1, b"one"))

    def test_moves_to_another_member_from_its_position_without_a_new_state(self):
        with self.client.watch("jobs/m") as w:
            self.assertEqual(self.next(w).type, STATE)
            first = self.other.acquire("jobs/m")
            self.assertEqual(self.next(w).token, first.fencing_token)
            with self.cluster.cond:
                self.cluster.down.add("n1")  # the member it reads from dies, n2 leads
                self.cluster.leader = "n2"
                self.cluster.cond.notify_all()
            first.release()
            second = self.other.acquire("jobs/m")
            got = [self.next(w, 5.0) for _ in range(2)]
            self.assertEqual([(e.type, e.token) for e in got],
                             [(RELEASED, first.fencing_token), (ACQUIRED, second.fencing_token)])
            polls = [e for e in self.cluster.log if e[2] == "/api/v1/watch" and e[0] != "n1"]
            self.assertTrue(polls, "the watch went on at another member")

    def test_a_gap_gives_a_fresh_state(self):
        with self.client.watch("jobs/g") as w:
            self.assertEqual(self.next(w).holders, [])
            held = self.other.acquire("jobs/g")
            self.assertEqual(self.next(w).type, ACQUIRED)
            self.cluster.forget_changes()
            state = self.next(w)
            self.assertEqual((state.type, state.holders), (STATE, [held.fencing_token]))

    def test_a_refused_watch_raises_its_error(self):
        w = self.client.watch("secret/x")
        with self.assertRaises(errors.PermissionDenied):
            next(iter(w))
        with self.assertRaises(errors.PermissionDenied):  # and again: it stays ended
            w.next_event(0.1)
        with self.assertRaises(errors.InvalidArgument):
            self.client.watch()
        with self.assertRaises(errors.InvalidArgument):
            self.client.watch("a", prefix="b")
        with self.assertRaises(errors.InvalidArgument):
            self.client.watch("")

    def test_close_ends_the_iteration_and_the_long_poll(self):
        w = self.client.watch("jobs/c")
        self.assertEqual(self.next(w).type, STATE)
        seen = []
        t = threading.Thread(target=lambda: seen.extend(w))
        t.start()
        time.sleep(0.2)  # the reader is blocked in its iteration, the watch in its long poll
        t0 = time.monotonic()
        w.close()
        t.join(2.0)
        self.assertFalse(t.is_alive())
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(seen, [])
        w._thread.join(2.0)
        self.assertFalse(w._thread.is_alive(), "the long poll was broken")
        self.assertTrue(w.closed)

    def test_closing_the_client_ends_its_watches_with_an_error(self):
        w = self.client.watch("jobs/d")
        self.assertEqual(self.next(w).type, STATE)
        self.client.close()
        with self.assertRaises(errors.SessionExpired):
            w.next_event(3.0)
        with self.assertRaises(errors.SessionExpired):
            self.client.watch("jobs/d")

    def test_await_free(self):
        self.assertTrue(self.client.await_free("jobs/f", 0))
        held = self.other.acquire("jobs/f")
        t0 = time.monotonic()
        self.assertFalse(self.client.await_free("jobs/f", 0.3))
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        threading.Timer(0.3, held.release).start()
        t0 = time.monotonic()
        self.assertTrue(self.client.await_free("jobs/f", 5))
        self.assertLess(time.monotonic() - t0, 2.0)
        with self.assertRaises(errors.PermissionDenied):
            self.client.await_free("secret/f", 1)


if __name__ == "__main__":
    unittest.main()
