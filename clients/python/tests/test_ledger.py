import threading
import unittest

from holdfast._ledger import Ledger


class LedgerTest(unittest.TestCase):
    def test_numbers_start_at_one_and_increase(self):
        l = Ledger()
        self.assertEqual([l.begin(), l.begin(), l.begin()], [1, 2, 3])

    def test_acked_below_is_lowest_outstanding_including_own(self):
        l = Ledger()
        self.assertEqual(l.acked_below(), 1)
        a = l.begin()
        self.assertEqual(l.acked_below(), a)
        b = l.begin()
        c = l.begin()
        self.assertEqual(l.stamp(c, {})["ackedBelow"], 1)
        l.finish(a)
        self.assertEqual(l.acked_below(), b)
        l.finish(c)
        self.assertEqual(l.acked_below(), b)  # b still outstanding
        l.finish(b)
        self.assertEqual(l.acked_below(), 4)  # nothing outstanding: the next number

    def test_stamp_adds_ids_without_changing_the_body(self):
        l = Ledger()
        n = l.begin()
        body = {"name": "x"}
        out = l.stamp(n, body)
        self.assertEqual(out, {"name": "x", "requestId": 1, "ackedBelow": 1})
        self.assertEqual(body, {"name": "x"})

    def test_finish_is_idempotent(self):
        l = Ledger()
        n = l.begin()
        l.finish(n)
        l.finish(n)
        self.assertEqual(l.outstanding(), set())

    def test_concurrent_numbers_are_unique(self):
        l = Ledger()
        got = []
        lock = threading.Lock()

        def take():
            for _ in range(200):
                n = l.begin()
                with lock:
                    got.append(n)

        ts = [threading.Thread(target=take) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(sorted(got), list(range(1, 801)))
