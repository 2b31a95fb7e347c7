import unittest

from holdfast._events import lost_in_gap, parse_poll
from holdfast.lease import Lease


class ParsePollTest(unittest.TestCase):
    def test_events(self):
        r = parse_poll({
            "sessionId": "S", "gap": False, "next": "731.1",
            "events": [
                {"type": "granted", "name": "a", "token": 7, "requestId": 3, "position": "1"},
                {"type": "lost", "name": "a", "token": 7, "reason": "revoked", "position": "2"},
                {"type": "lost", "name": "b", "token": 9, "reason": "leaseTimeout"},
                {"type": "lost", "name": "c", "token": 11, "reason": "somethingNew"},
                {"type": "waitTimedOut", "name": "d", "requestId": 4},
                {"type": "futureEvent"},
            ]})
        self.assertEqual(r.next, "731.1")
        self.assertFalse(r.gap)
        self.assertFalse(r.expired)
        self.assertEqual(r.lost, [("a", 7, "revoked"), ("b", 9, "leaseTimeout"), ("c", 11, "unknown")])
        self.assertIsNone(r.holds)

    def test_session_expired_and_closed(self):
        self.assertTrue(parse_poll({"events": [{"type": "sessionExpired"}], "next": "3"}).expired)
        r = parse_poll({"events": [{"type": "sessionClosed"}], "next": "3"})
        self.assertTrue(r.closed)
        self.assertFalse(r.expired)

    def test_empty_answer_keeps_position(self):
        r = parse_poll({"sessionId": "S", "events": [], "next": "5.0", "gap": False})
        self.assertEqual((r.next, r.lost, r.expired), ("5.0", [], False))

    def test_gap_with_state(self):
        r = parse_poll({"sessionId": "S", "gap": True, "next": "812.0", "events": [],
                        "state": {"exists": True,
                                  "holds": [{"name": "jobs/nightly", "token": 42, "mode": "exclusive",
                                             "permits": 1}],
                                  "waits": [{"name": "orders/7", "requestId": 9}]}})
        self.assertTrue(r.gap)
        self.assertFalse(r.expired)
        self.assertEqual(r.holds, {("jobs/nightly", 42)})
        held = [Lease(None, "jobs/nightly", 42), Lease(None, "jobs/nightly", 41),
                Lease(None, "other", 42)]
        self.assertEqual([(l.name, l.token) for l in lost_in_gap(r.holds, held)],
                         [("jobs/nightly", 41), ("other", 42)])

    def test_gap_of_a_session_that_no_longer_exists(self):
        r = parse_poll({"gap": True, "next": "9", "events": [],
                        "state": {"exists": False, "holds": [], "waits": []}})
        self.assertTrue(r.expired)

    def test_not_an_object(self):
        with self.assertRaises(ValueError):
            parse_poll("oops")


class LeaseTest(unittest.TestCase):
    def test_loss_calls_each_callback_once(self):
        l = Lease(None, "a", 1)
        calls = []
        l.on_lost(lambda lease, reason: calls.append((lease.token, reason)))
        self.assertTrue(l.valid)
        self.assertTrue(l._mark_lost("revoked"))
        self.assertFalse(l._mark_lost("unknown"))
        self.assertFalse(l.valid)
        self.assertEqual(l.lost_reason, "revoked")
        l.on_lost(lambda lease, reason: calls.append(("late", reason)))
        self.assertEqual(calls, [(1, "revoked"), ("late", "revoked")])

    def test_release_is_not_a_loss(self):
        l = Lease(None, "a", 1)
        calls = []
        l.on_lost(lambda lease, reason: calls.append(reason))
        l.release()
        l.release()
        self.assertFalse(l._mark_lost("revoked"))
        self.assertFalse(l.valid)
        self.assertEqual(calls, [])
