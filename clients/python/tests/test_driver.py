"""The conformance driver (conformance_driver.py) against the in-process fake cluster."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
import unittest

from .fakecluster import Cluster

DRIVER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "conformance_driver.py")


class DriverTest(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(1)
        self.proc = subprocess.Popen([sys.executable, DRIVER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1, cwd="/")
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stdin.close()
        self.cluster.stop()

    def send(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def next_line(self, timeout=5.0):
        return self.lines.get(timeout=timeout)

    def answer(self, **cmd):
        self.send(**cmd)
        return self.next_line()

    def test_session(self):
        m = self.cluster.urls()
        a = self.answer(id=1, op="open", client="c", members=m, ttlMillis=5000, clientName="t")
        self.assertEqual((a["id"], a["ok"]), (1, True))
        self.assertTrue(a["sessionId"])
        self.assertTrue(self.answer(id=2, op="open", client="d", members=m, ttlMillis=5000,
                                    clientName="u")["ok"])
        a = self.answer(id=3, op="acquire", client="c", handle="h1", name="x", mode="exclusive",
                        waitMillis=0, leaseMillis=0)
        self.assertEqual(a["id"], 3)
        token = a["token"]
        # A waiting acquire must not hold up the commands after it.
        self.send(id=4, op="acquire", client="d", handle="h2", name="x", mode="exclusive",
                  waitMillis=5000, leaseMillis=0)
        self.assertEqual(self.answer(id=5, op="isValid", handle="h1"),
                         {"id": 5, "ok": True, "valid": True})
        self.send(id=6, op="release", handle="h1")
        got = {l["id"]: l for l in (self.next_line(), self.next_line())}  # in either order
        self.assertEqual(got[6], {"id": 6, "ok": True})
        a = got[4]
        self.assertGreater(a["token"], token)
        self.cluster.revoke("x")
        t0 = time.monotonic()
        ev = self.next_line(2.0)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(ev, {"event": "lost", "handle": "h2", "token": a["token"], "reason": "revoked"})
        self.assertEqual(self.answer(id=7, op="isValid", handle="h2")["valid"], False)
        a = self.answer(id=8, op="acquire", client="c", handle="h3", name="s", mode="permits",
                        permits=0, maxPermits=2, waitMillis=0, leaseMillis=0)
        self.assertEqual((a["ok"], a["error"]), (False, "INVALID_ARGUMENT"))
        self.assertTrue(a["message"])
        self.assertEqual(self.answer(id=9, op="registerSet", client="c", key="k", expectedVersion=0,
                                     value="héllo")["version"], 1)
        a = self.answer(id=10, op="registerSet", client="c", key="k", expectedVersion=0, value="x")
        self.assertEqual((a["ok"], a["error"]), (False, "CONFLICT"))
        self.assertEqual(self.answer(id=11, op="registerGet", client="c", key="k"),
                         {"id": 11, "ok": True, "version": 1, "value": "héllo"})
        self.assertEqual(self.answer(id=12, op="registerGet", client="c", key="none"),
                         {"id": 12, "ok": True, "version": 0, "value": None})
        self.assertEqual(self.answer(id=13, op="fenceCheck", client="c", name="x", token=token),
                         {"id": 13, "ok": True, "current": False})
        self.proc.stdin.write("not json\n")
        self.proc.stdin.flush()
        a = self.next_line()
        self.assertEqual((a["id"], a["ok"], a["error"]), (None, False, "INVALID_ARGUMENT"))
        self.assertEqual(self.answer(id=14, op="close", client="d"), {"id": 14, "ok": True})
        self.assertEqual(self.answer(id=15, op="exit"), {"id": 15, "ok": True})
        self.assertEqual(self.proc.wait(5), 0)

    def collect(self, n):
        """The next n lines, in either order: answers by id, and the watch lines in order."""
        lines = [self.next_line() for _ in range(n)]
        return ({l["id"]: l for l in lines if "id" in l},
                [(l["type"], l.get("token")) for l in lines if l.get("event") == "watch"])

    def test_watch_and_election(self):
        m = self.cluster.urls()
        for i, c in enumerate(("w", "a", "b")):
            self.assertTrue(self.answer(id=i + 1, op="open", client=c, members=m, ttlMillis=5000,
                                        clientName=c)["ok"])
        self.send(id=4, op="watch", client="w", watch="w1", lock="svc/x")
        state = self.next_line()  # before the answer
        self.assertEqual(state, {"event": "watch", "watch": "w1", "type": "state", "name": "svc/x",
                                 "position": state["position"], "locks": []})
        self.assertEqual(self.next_line(), {"id": 4, "ok": True})
        self.assertEqual(self.answer(id=5, op="leader", client="w", name="svc/x"),
                         {"id": 5, "ok": True, "epoch": 0, "value": None})
        self.send(id=6, op="campaign", client="a", handle="l1", name="svc/x", value="A",
                  waitMillis=0)
        answers, events = self.collect(2)
        epoch = answers[6]["epoch"]
        self.assertEqual(events, [("acquired", epoch)])
        self.assertEqual(self.answer(id=7, op="leader", client="b", name="svc/x"),
                         {"id": 7, "ok": True, "epoch": epoch, "value": "A"})
        self.send(id=8, op="campaign", client="b", handle="l2", name="svc/x", value="B",
                  waitMillis=5000)
        self.assertEqual(self.next_line()["type"], "queued")
        self.send(id=9, op="resign", handle="l1")
        answers, events = self.collect(4)
        self.assertEqual(answers[9], {"id": 9, "ok": True})
        self.assertGreater(answers[8]["epoch"], epoch)
        self.assertEqual(events, [("released", epoch), ("acquired", answers[8]["epoch"])])
        self.assertEqual(self.answer(id=10, op="isValid", handle="l1")["valid"], False)
        self.assertEqual(self.answer(id=11, op="unwatch", watch="w1"), {"id": 11, "ok": True})
        a = self.answer(id=12, op="watch", client="w", watch="w2", register="k", lock="k")
        self.assertEqual((a["ok"], a["error"]), (False, "INVALID_ARGUMENT"))
        self.send(id=13, op="watch", client="w", watch="w3", lock="secret/x")
        self.assertEqual(self.next_line()["error"], "PERMISSION_DENIED")

    def test_keys_and_transactions(self):
        m = self.cluster.urls()
        for i, c in enumerate(("w", "a")):
            self.assertTrue(self.answer(id=i + 1, op="open", client=c, members=m, ttlMillis=5000,
                                        clientName=c)["ok"])
        self.send(id=3, op="watch", client="w", watch="k1", keys="svc/")
        state = self.next_line()
        self.assertEqual((state["type"], state["keys"]), ("state", []))
        self.assertEqual(self.next_line(), {"id": 3, "ok": True})
        self.send(id=4, op="keyPut", client="a", key="svc/a", value="10.0.0.1", attach=True)
        answers, events = self.collect(2)
        self.assertEqual(answers[4], {"id": 4, "ok": True, "version": 1})
        self.assertEqual(events, [("registerSet", None)])
        a = self.answer(id=5, op="keyPut", client="a", key="svc/a", value="x", expectedVersion=0)
        self.assertEqual((a["ok"], a["error"]), (False, "CONFLICT"))
        a = self.answer(id=6, op="keyGet", client="w", key="svc/a")
        self.assertEqual((a["version"], a["value"]), (1, "10.0.0.1"))
        self.assertTrue(a["owner"])
        self.assertEqual(self.answer(id=7, op="keyGet", client="w", key="none"),
                         {"id": 7, "ok": True, "version": 0, "value": None, "owner": None})
        a = self.answer(id=8, op="keyList", client="w", prefix="svc/", limit=10)
        self.assertEqual(([k["key"] for k in a["keys"]], a["more"]), (["svc/a"], False))
        a = self.answer(id=9, op="txn", client="w", compares=[{"type": "absent", "key": "n"}],
                        then=[{"type": "add", "key": "n", "delta": 2},
                              {"type": "get", "key": "svc/a"}], otherwise=[])
        self.assertEqual(a, {"id": 9, "ok": True, "succeeded": True, "results": [
            {"version": 1, "value": None, "counter": 2},
            {"version": 1, "value": "10.0.0.1", "counter": 0}]})
        self.assertEqual(self.answer(id=10, op="keyAdd", client="w", key="n", delta=3)["value"], 5)
        self.send(id=11, op="close", client="a")
        lines = [self.next_line(), self.next_line()]
        deleted = [l for l in lines if l.get("event") == "watch"][0]
        self.assertEqual((deleted["type"], deleted["name"], deleted["cause"], deleted["version"]),
                         ("registerDeleted", "svc/a", "sessionClosed", 1))
        self.assertEqual(self.answer(id=12, op="keyDelete", client="w", key="n")["version"], 2)

    def test_exits_at_end_of_input(self):
        self.answer(id=1, op="open", client="c", members=self.cluster.urls(), ttlMillis=5000,
                    clientName="t")
        self.proc.stdin.close()
        self.assertEqual(self.proc.wait(5), 0)
        self.assertFalse(any(s["alive"] for s in self.cluster.sessions.values()))
