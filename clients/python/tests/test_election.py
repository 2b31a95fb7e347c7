"""Elections against the in-process imitation of the protocol (tests/fakecluster.py)."""

import base64
import json
import os
import threading
import time
import unittest

from holdfast import errors
from holdfast.election import Leader, proclaimed

from .fakecluster import FakeClusterCase


VECTORS = os.path.join(os.path.dirname(__file__), "..", "..", "vectors", "records.json")


class ProclaimedTest(unittest.TestCase):
    def test_reads_the_shared_vectors(self):
        """clients/vectors/records.json, which every client's parser passes (docs/protocol.md)."""
        with open(VECTORS, encoding="utf-8") as f:
            vectors = json.load(f)["election"]
        self.assertTrue(vectors)
        for vector in vectors:
            record = vector["record"]
            found = proclaimed(None if record is None else record.encode("utf-8"))
            want = "invalid" if "invalid" in vector else "%s %s" % (vector["epoch"], vector["value"])
            self.assertEqual("invalid" if found is None else "%d %s" % found, want, vector)


class ElectionAgainstFakeTest(FakeClusterCase):
    def setUp(self):
        super().setUp()
        self.a = self.new_client()
        self.b = self.new_client()

    def test_one_leads_with_its_token_as_epoch_then_the_next_with_a_higher_one(self):
        election = self.a.election("svc/indexer")
        self.assertIsNone(election.leader())
        first = election.campaign("a:8080")
        self.assertTrue(first.valid)
        self.assertEqual(self.b.election("svc/indexer").leader(),
                         Leader("svc/indexer", first.epoch, "a:8080"))
        self.assertEqual(self.cluster.holders["svc/indexer"], (self.a.session_id, first.epoch))
        write = self.cluster.requests("/api/v1/registers/set")[-1][3]
        self.assertEqual((write["fenceName"], write["fenceToken"]), ("svc/indexer", first.epoch))
        self.assertEqual(base64.b64decode(write["value"]), b"%d:a:8080" % first.epoch)

        with self.assertRaises(errors.LockTimeout):
            self.b.election("svc/indexer").campaign("b:8080")
        won = {}
        t = threading.Thread(target=lambda: won.update(
            l=self.b.election("svc/indexer").campaign("b:8080", wait=5)))
        t.start()
        deadline = time.monotonic() + 3
        while not any(c["type"] == "queued" and c["name"] == "svc/indexer"
                      for c in self.cluster.changes):
            self.assertLess(time.monotonic(), deadline, "the second candidate did not queue")
            time.sleep(0.01)
        self.assertFalse(won, "the second candidate waits while the first leads")
        lost = []
        first.on_lost(lambda l, reason: lost.append(reason))
        first.resign()
        t.join(5)
        second = won["l"]
        self.assertGreater(second.epoch, first.epoch)
        self.assertFalse(first.valid)
        self.assertEqual(lost, [], "a resignation is no loss")
        self.assertEqual(election.leader(), Leader("svc/indexer", second.epoch, "b:8080"))
        self.assertFalse(self.a.is_current("svc/indexer", first.epoch))
        with second:
            pass  # resigns
        self.assertIsNone(election.leader())

    def test_a_leader_that_has_not_proclaimed_yet_shows_no_value(self):
        lease = self.a.acquire("svc/quiet")
        self.assertEqual(self.b.election("svc/quiet").leader(),
                         Leader("svc/quiet", lease.fencing_token, None))
        # An older leadership's proclamation is not the current leader's value.
        self.a.register("svc/quiet").compare_and_set(0, "%d:old" % (lease.fencing_token - 1))
        self.assertEqual(self.b.election("svc/quiet").leader().value, None)

    def test_a_lost_leadership_is_told(self):
        leading = self.a.election("svc/lost").campaign("a")
        reasons = []
        done = threading.Event()
        leading.on_lost(lambda l, reason: (reasons.append((l.epoch, reason)), done.set()))
        self.cluster.revoke("svc/lost")
        self.assertTrue(done.wait(2.0))
        self.assertEqual(reasons, [(leading.epoch, "revoked")])
        self.assertFalse(leading.valid)

    def test_a_failed_proclamation_releases_the_lock(self):
        self.b.register("svc/taken").compare_and_set(0, "not an election")
        with self.cluster.cond:  # every write of this key is refused from now on
            self.cluster.refuse_keys.add("svc/taken")
        with self.assertRaises(errors.Conflict):
            self.a.election("svc/taken").campaign("a")
        self.assertNotIn("svc/taken", self.cluster.holders, "the candidacy ended")

    def test_bad_values_are_refused_before_anything_is_sent(self):
        sent = len(self.cluster.log)
        with self.assertRaises(errors.InvalidArgument):
            self.a.election("svc/x").campaign(None)
        with self.assertRaises(errors.InvalidArgument):
            self.a.election("svc/x").campaign("x" * (32 * 1024 + 1))
        with self.assertRaises(errors.InvalidArgument):
            self.a.election("")
        self.assertEqual(len(self.cluster.log), sent)


if __name__ == "__main__":
    unittest.main()


class ObserveAgainstFakeTest(FakeClusterCase):
    def setUp(self):
        super().setUp()
        self.a = self.new_client()
        self.b = self.new_client()
        self.told = []
        self.ended = []

    def observe(self, name):
        observation = self.b.election(name).observe()

        def read():
            try:
                for leader in observation:
                    self.told.append(leader)
                self.ended.append(None)
            except Exception as e:  # the test fails on it below
                self.ended.append(e)

        threading.Thread(target=read, daemon=True).start()
        return observation

    def await_told(self, leader):
        deadline = time.monotonic() + 5
        while leader not in self.told:
            self.assertLess(time.monotonic(), deadline, "%r not told; told %r" % (leader, self.told))
            time.sleep(0.01)

    def test_each_leader_is_told_in_epoch_order(self):
        with self.observe("svc/observed"):
            self.await_told(None)
            first = self.a.election("svc/observed").campaign("a:8080")
            self.await_told(Leader("svc/observed", first.epoch, "a:8080"))
            del self.told[:]  # before the resign: the observer may tell None at once
            first.resign()
            self.await_told(None)
            second = self.b.election("svc/observed").campaign("b:8080")
            self.await_told(Leader("svc/observed", second.epoch, "b:8080"))
            self.assertTrue(all(l is None or l.epoch == second.epoch for l in self.told), self.told)
            self.assertGreater(second.epoch, first.epoch)
        deadline = time.monotonic() + 5
        while not self.ended:
            self.assertLess(time.monotonic(), deadline, "iteration did not end with close")
            time.sleep(0.01)
        self.assertEqual(self.ended, [None])

    def test_a_leader_is_told_before_its_value(self):
        with self.observe("svc/quiet"):
            lease = self.a.acquire("svc/quiet")  # elected, not proclaimed
            self.await_told(Leader("svc/quiet", lease.fencing_token, None))
            self.a.register("svc/quiet").compare_and_set(0, "%d:late" % lease.fencing_token,
                                                         fence=lease)
            self.await_told(Leader("svc/quiet", lease.fencing_token, "late"))
