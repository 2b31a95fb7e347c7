"""The client against an in-process imitation of the protocol (tests/fakecluster.py)."""

import threading
import time
import unittest

import holdfast
from holdfast import errors

from .fakecluster import Cluster


class ClientAgainstFakeTest(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(3)
        self.cluster.leader = "n2"
        # n1 first (it answers NOT_LEADER, naming n2): the tests below count on it
        self.client = holdfast.Client(self.cluster.urls(), request_timeout=1.0, ttl=3.0, calls="first")

    def tearDown(self):
        self.client.close()
        self.cluster.stop()

    def test_open_follows_the_leader_with_a_chosen_id(self):
        opens = self.cluster.requests("/api/v1/sessions")
        self.assertEqual(opens[0][0], "n1")  # tried first, answered NOT_LEADER
        self.assertEqual(opens[-1][0], "n2")
        self.assertEqual(opens[0][3]["sessionId"], opens[-1][3]["sessionId"])
        self.assertEqual(self.client.session_id, opens[-1][3]["sessionId"])
        self.assertEqual(opens[0][3]["ttlMillis"], 3000)

    def test_acquire_release_with_request_ids(self):
        with self.client.lock("jobs/a", wait=1) as lease:
            self.assertTrue(lease.valid)
            self.assertIsInstance(lease.fencing_token, int)
            self.assertTrue(self.client.is_current("jobs/a", lease.fencing_token))
        self.assertFalse(lease.valid)
        self.assertFalse(self.client.is_current("jobs/a", lease.fencing_token))
        acq = self.cluster.requests("/api/v1/acquire")[-1][3]
        rel = self.cluster.requests("/api/v1/release")[-1][3]
        self.assertEqual((acq["requestId"], acq["ackedBelow"]), (1, 1))
        self.assertEqual((rel["requestId"], rel["ackedBelow"]), (2, 2))
        self.assertEqual(acq["waitMillis"], 1000)
        self.assertEqual(acq["session"], self.client.session_id)

    def test_lock_timeout_and_wait(self):
        other = holdfast.Client(self.cluster.urls(), request_timeout=1.0)
        try:
            lease = other.acquire("jobs/b")
            with self.assertRaises(errors.LockTimeout):
                self.client.acquire("jobs/b", wait=0)
            threading.Timer(0.3, lease.release).start()
            t0 = time.monotonic()
            mine = self.client.acquire("jobs/b", wait=5)
            self.assertLess(time.monotonic() - t0, 3)
            self.assertGreater(mine.fencing_token, lease.fencing_token)
        finally:
            other.close()

    def test_wait_follows_a_new_leader_with_the_same_request(self):
        other = holdfast.Client(self.cluster.urls(), request_timeout=1.0)
        try:
            held = other.acquire("jobs/w")
            result = {}
            t = threading.Thread(target=lambda: result.update(lease=self.client.acquire("jobs/w", wait=10)))
            t.start()
            time.sleep(0.3)
            with self.cluster.cond:
                self.cluster.leader = "n3"
                self.cluster.cond.notify_all()
            time.sleep(0.3)
            held.release()  # at the new leader
            t.join(5)
            self.assertIn("lease", result)
            self.assertGreater(result["lease"].fencing_token, held.fencing_token)
            sent = [(r[0], r[3]["requestId"]) for r in self.cluster.requests("/api/v1/acquire")
                    if r[3]["session"] == self.client.session_id]
            self.assertEqual(sent[0][0], "n2")
            self.assertEqual(sent[-1][0], "n3")
            self.assertEqual({rid for _, rid in sent}, {sent[0][1]})
        finally:
            other.close()

    def test_session_expires_locally_when_no_heartbeat_is_acknowledged(self):
        alone = Cluster(1)
        c = holdfast.Client(alone.urls(), ttl=1.0, request_timeout=0.3, renew_sessions=False)
        lease = c.acquire("jobs/x")
        t0 = time.monotonic()
        alone.stop()  # nobody answers any more
        self.assertTrue(lease.wait_lost(2.5))
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertEqual(lease.lost_reason, "sessionExpired")
        self.assertTrue(c.expired)
        with self.assertRaises(errors.SessionExpired):
            c.acquire("jobs/y")
        c.close()  # no DELETE for an expired session: returns at once

    def test_lost_answer_is_retried_with_the_same_request_id(self):
        self.cluster.drop["/api/v1/acquire"] = 1
        lease = self.client.acquire("jobs/c")
        sent = [r[3] for r in self.cluster.requests("/api/v1/acquire") if r[0] == "n2"]
        self.assertEqual(len(sent), 2)  # (a follower may be asked in between: NOT_LEADER)
        self.assertEqual(sent[0], sent[1])  # the same request, the same requestId
        self.assertEqual(self.cluster.holders["jobs/c"][1], lease.fencing_token)

    def test_revoke_is_reported_within_a_second(self):
        lease = self.client.acquire("jobs/d")
        got = []
        done = threading.Event()
        lease.on_lost(lambda l, reason: (got.append(reason), done.set()))
        time.sleep(0.1)
        t0 = time.monotonic()
        self.cluster.revoke("jobs/d")
        self.assertTrue(done.wait(1.0))
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(got, ["revoked"])
        self.assertFalse(lease.valid)
        lease.release()  # not an error after the loss

    def test_gap_loses_what_the_state_does_not_list(self):
        kept = self.client.acquire("jobs/kept")
        gone = self.client.acquire("jobs/gone")
        with self.cluster.cond:
            del self.cluster.holders["jobs/gone"]  # lost without an event
            self.cluster.gap_next.add(self.client.session_id)
        time.sleep(0.05)
        self.assertTrue(gone.wait_lost(2.0))
        self.assertEqual(gone.lost_reason, "unknown")
        self.assertTrue(kept.valid)

    def test_registers(self):
        reg = self.client.register("cfg/x")
        self.assertEqual(reg.get(), (0, None))
        self.assertEqual(reg.compare_and_set(0, b"hello"), 1)
        self.assertEqual(reg.get(), (1, b"hello"))
        with self.assertRaises(errors.Conflict) as cm:
            reg.compare_and_set(0, "again")
        self.assertEqual(cm.exception.current_version, 1)
        with self.client.lock("jobs/fence") as lease:
            self.assertEqual(reg.compare_and_set(1, "fenced", fence=lease), 2)
            body = self.cluster.requests("/api/v1/registers/set")[-1][3]
            self.assertEqual((body["fenceName"], body["fenceToken"]), ("jobs/fence", lease.token))

    def test_server_refusal_is_typed(self):
        with self.assertRaises(errors.InvalidArgument) as cm:
            self.client.acquire("a//b")
        self.assertIn("bad name", cm.exception.message)
        with self.assertRaises(errors.InvalidArgument):
            self.client.semaphore("s", 3, permits=0).acquire()

    def test_session_expiry_loses_every_lease(self):
        self.client.close()
        self.client = holdfast.Client(self.cluster.urls(), request_timeout=1.0, ttl=3.0,
                                      calls="first", renew_sessions=False)  # ends with its session
        lease = self.client.acquire("jobs/e")
        reasons = []
        lease.on_lost(lambda l, r: reasons.append(r))
        with self.cluster.cond:
            self.cluster.sessions[self.client.session_id]["alive"] = False
        with self.assertRaises(errors.SessionExpired):
            self.client.acquire("jobs/f")
        self.assertTrue(self.client.expired)
        self.assertTrue(lease.wait_lost(1))
        time.sleep(0.1)
        self.assertEqual(reasons, ["sessionExpired"])
        with self.assertRaises(errors.SessionExpired):
            self.client.acquire("jobs/g")

    def test_close_is_idempotent_and_releases(self):
        lease = self.client.acquire("jobs/h")
        self.client.close()
        self.client.close()
        self.assertFalse(lease.valid)
        self.assertNotIn("jobs/h", self.cluster.holders)
        self.assertIsNone(lease.lost_reason)
        with self.assertRaises(errors.SessionExpired):
            self.client.acquire("jobs/i")


class BearerTokenTest(unittest.TestCase):
    def test_token_is_sent_on_every_request(self):
        cluster = Cluster(1)
        try:
            with holdfast.Client(cluster.urls(), token="s3cret") as c:
                c.acquire("jobs/t").release()
            self.assertTrue(cluster.headers)
            for h in cluster.headers:
                self.assertEqual(h.get("Authorization"), "Bearer s3cret")
        finally:
            cluster.stop()


class UnreachableTest(unittest.TestCase):
    def test_unavailable_names_the_last_cause(self):
        t0 = time.monotonic()
        with self.assertRaises(errors.Unavailable) as cm:
            holdfast.Client(["http://127.0.0.1:9"], request_timeout=0.3)
        self.assertLess(time.monotonic() - t0, 3)
        self.assertEqual(cm.exception.message,
                         "holdfast: cannot reach any member (http://127.0.0.1:9: connection refused)")
        self.assertEqual(cm.exception.code, "UNAVAILABLE")
