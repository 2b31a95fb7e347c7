"""Against a real server: runs when HOLDFAST_JAR points at the server jar, else is skipped.

Starts one node (``java -jar $HOLDFAST_JAR server`` on ports 21011-21013, or from
HOLDFAST_IT_PORT), waits for ``GET /ready``, and checks open, acquire, wait, release, lease
renewal, revoke reporting, session end, registers, bad input, a retry with the same request
id through a proxy that drops one acquire's answer, watches (each change with its cause,
await_free) and elections. The node is killed at the end.
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import holdfast
from holdfast import errors

from .fakecluster import send_json

JAR = os.environ.get("HOLDFAST_JAR")
BASE_PORT = int(os.environ.get("HOLDFAST_IT_PORT", "21011"))

if not JAR:
    print("test_integration: skipped, HOLDFAST_JAR is not set (the conformance suite covers a "
          "real cluster)", file=sys.stderr)


def http_json(method, url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class DroppingProxy:
    """Forwards HTTP to ``target``; drops the answer of the first ``drop_path`` request."""

    def __init__(self, target, drop_path):
        self.target = target
        self.drop_path = drop_path
        self.dropped = 0
        self.seen = []
        proxy = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _do(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                host, port = proxy.target
                c = http.client.HTTPConnection(host, port, timeout=60)
                c.request(self.command, self.path, body=body,
                          headers={"Content-Type": "application/json"})
                r = c.getresponse()
                data = r.read()
                c.close()
                path = self.path.split("?")[0]
                if path == proxy.drop_path:
                    proxy.seen.append(json.loads(body))
                    if proxy.dropped == 0:
                        proxy.dropped += 1
                        self.close_connection = True
                        return  # the answer is lost
                send_json(self, r.status, data)

            do_GET = do_POST = do_DELETE = _do

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@unittest.skipUnless(JAR, "HOLDFAST_JAR is not set")
class RealServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.mkdtemp(prefix="holdfast-py-it-", dir="/tmp")
        client_port, raft_port, http_port = BASE_PORT, BASE_PORT + 1, BASE_PORT + 2
        cls.url = "http://127.0.0.1:%d" % http_port
        cls.log = open(os.path.join(cls.data, "server.log"), "wb")
        cls.proc = subprocess.Popen(
            ["java", "-XX:+UseSerialGC", "-jar", JAR, "server", "--id", "n1",
             "--data-dir", os.path.join(cls.data, "n1"), "--client-port", str(client_port),
             "--raft-port", str(raft_port), "--http-port", str(http_port)],
            stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if http_json("GET", cls.url + "/ready", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if cls.proc.poll() is not None or time.monotonic() > deadline:
                cls.tearDownClass()
                raise RuntimeError("the server did not become ready (log in %s)" % cls.data)
            time.sleep(0.3)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        try:
            cls.proc.wait(10)
        except subprocess.TimeoutExpired:
            cls.proc.kill()
            cls.proc.wait()
        cls.log.close()
        shutil.rmtree(cls.data, ignore_errors=True)

    def client(self, members=None, **kw):
        c = holdfast.Client(members or [self.url], **kw)
        self.addCleanup(c.close)
        return c

    def holders(self, name):
        status, body = http_json("GET", self.url + "/api/v1/locks/" + name)
        if status == 404:
            return []
        return [h["token"] for h in body["lock"]["holders"]]

    def test_acquire_wait_release(self):
        a, b = self.client(), self.client()
        self.assertTrue(a.session_id and a.session_id != b.session_id)
        lease = a.acquire("it/mutex")
        with self.assertRaises(errors.LockTimeout):
            b.acquire("it/mutex", wait=0.2)
        threading.Timer(0.5, lease.release).start()
        t0 = time.monotonic()
        with b.lock("it/mutex", wait=10) as second:
            self.assertGreaterEqual(time.monotonic() - t0, 0.4)
            self.assertGreater(second.fencing_token, lease.fencing_token)
            self.assertTrue(b.is_current("it/mutex", second.fencing_token))
            self.assertFalse(b.is_current("it/mutex", lease.fencing_token))
            self.assertEqual(self.holders("it/mutex"), [second.fencing_token])
        self.assertFalse(second.valid)
        self.assertEqual(self.holders("it/mutex"), [])

    def test_lease_is_renewed_while_held(self):
        c = self.client()
        lease = c.acquire("it/renewed", lease_timeout=1.0)
        time.sleep(2.5)
        self.assertTrue(lease.valid)
        self.assertTrue(c.is_current("it/renewed", lease.fencing_token))
        # Granted after a wait longer than its lease timeout: renewed from the grant on.
        other = self.client()
        threading.Timer(1.5, lease.release).start()
        waited = other.acquire("it/renewed", wait=10, lease_timeout=1.0)
        time.sleep(2.0)
        self.assertTrue(waited.valid)
        self.assertTrue(other.is_current("it/renewed", waited.fencing_token))
        waited.release()

    def test_revoke_is_reported_within_a_second(self):
        c = self.client()
        lease = c.acquire("it/revoked")
        done = threading.Event()
        reasons = []
        lease.on_lost(lambda l, r: (reasons.append(r), done.set()))
        time.sleep(0.2)
        t0 = time.monotonic()
        self.assertEqual(http_json("POST", self.url + "/api/v1/revoke", {"name": "it/revoked"})[0], 200)
        self.assertTrue(done.wait(1.0), "no loss reported within a second")
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(reasons, ["revoked"])
        self.assertFalse(lease.valid)
        lease.release()  # not an error after a loss

    def test_session_end_is_reported(self):
        c = self.client()
        lease = c.acquire("it/ended")
        status, _ = http_json("POST", self.url + "/api/v1/sessions/%s/end" % c.session_id, {})
        self.assertEqual(status, 200)
        self.assertTrue(lease.wait_lost(2.0))
        self.assertEqual(lease.lost_reason, "sessionExpired")
        with self.assertRaises(errors.SessionExpired):
            c.acquire("it/after-end")

    def test_retry_after_a_dropped_answer_uses_the_same_request_id(self):
        proxy = DroppingProxy(("127.0.0.1", BASE_PORT + 2), "/api/v1/acquire")
        self.addCleanup(proxy.stop)
        c = self.client([proxy.url])
        lease = c.acquire("it/retried", wait=2)
        self.assertEqual(len(proxy.seen), 2)
        self.assertEqual(proxy.seen[0]["requestId"], proxy.seen[1]["requestId"])
        self.assertEqual(self.holders("it/retried"), [lease.fencing_token])
        lease.release()

    def test_registers_and_bad_input(self):
        c = self.client()
        reg = c.register("it/reg")
        self.assertEqual(reg.get(), (0, None))
        self.assertEqual(reg.compare_and_set(0, "one"), 1)
        with self.assertRaises(errors.Conflict) as cm:
            reg.compare_and_set(0, "two")
        self.assertEqual(cm.exception.current_version, 1)
        with c.lock("it/fence") as lease:
            self.assertEqual(reg.compare_and_set(1, b"two", fence=lease), 2)
        self.assertEqual(reg.get(), (2, b"two"))
        with self.assertRaises(errors.InvalidArgument) as cm:
            c.acquire("it/../x")
        self.assertTrue(cm.exception.message)
        with self.assertRaises(errors.InvalidArgument):
            c.semaphore("it/sem", 2, permits=0).acquire()
        with c.semaphore("it/sem", 2, permits=2):
            with self.assertRaises(errors.LockTimeout):
                c.semaphore("it/sem", 2, permits=1).acquire()

    def test_watch_tells_each_change_with_its_cause(self):
        w, a, b = self.client(), self.client(), self.client()
        with w.watch("it/watched") as watch, w.watch(register="it/watched-reg") as reg:
            first = watch.next_event(5)
            self.assertEqual((first.type, first.holders), ("state", []))
            self.assertEqual(reg.next_event(5).version, 0)
            held = a.acquire("it/watched")
            waiter = {}
            t = threading.Thread(target=lambda: waiter.update(l=b.acquire("it/watched", wait=10)))
            t.start()
            events = [watch.next_event(5) for _ in range(2)]
            held.release()
            t.join(5)
            status, _ = http_json("POST", self.url + "/api/v1/revoke", {"name": "it/watched"})
            self.assertEqual(status, 200)
            events += [watch.next_event(5) for _ in range(3)]
            token = waiter["l"].fencing_token
            self.assertEqual([(e.type, e.token, e.cause) for e in events], [
                ("acquired", held.fencing_token, None), ("queued", 0, None),
                ("released", held.fencing_token, "released"), ("acquired", token, None),
                ("released", token, "revoked")])
            self.assertEqual([e.session_id for e in events],
                             [a.session_id, b.session_id, a.session_id, b.session_id, b.session_id])
            self.assertEqual(a.register("it/watched-reg").compare_and_set(0, "one"), 1)
            e = reg.next_event(5)
            self.assertEqual((e.type, e.version, e.value), ("registerSet", 1, b"one"))
        self.assertTrue(w.await_free("it/watched", 0))
        held = a.acquire("it/watched")
        self.assertFalse(w.await_free("it/watched", 0.2))
        threading.Timer(0.3, held.release).start()
        self.assertTrue(w.await_free("it/watched", 10))

    def test_election(self):
        a, b = self.client(), self.client()
        self.assertIsNone(b.election("it/elect").leader())
        first = a.election("it/elect").campaign("A")
        self.assertEqual(b.election("it/elect").leader(),
                         holdfast.Leader("it/elect", first.epoch, "A"))
        status, view = http_json("GET", self.url + "/api/v1/elections/it/elect")
        self.assertEqual((status, view["election"]["epoch"], view["election"]["value"]),
                         (200, first.epoch, "A"))
        won = {}
        t = threading.Thread(target=lambda: won.update(
            l=b.election("it/elect").campaign("B", wait=10)))
        t.start()
        deadline = time.monotonic() + 5
        while True:
            status, view = http_json("GET", self.url + "/api/v1/locks/it/elect")
            if len(view["lock"]["waiters"]) == 1:
                break
            self.assertLess(time.monotonic(), deadline, "the second candidate did not queue")
            time.sleep(0.02)
        self.assertFalse(won, "the second candidate waits while the first leads")
        first.resign()
        t.join(5)
        second = won["l"]
        self.assertGreater(second.epoch, first.epoch)
        self.assertEqual(a.election("it/elect").leader(),
                         holdfast.Leader("it/elect", second.epoch, "B"))
        with self.assertRaises(errors.Conflict):  # the deposed leader's fenced write
            a.register("it/elect").compare_and_set(2, "x", fence=first.lease)
        second.resign()
        self.assertIsNone(a.election("it/elect").leader())

    def test_acquire_all_and_close(self):
        c = holdfast.Client([self.url])
        leases = c.acquire_all(["it/m2", "it/m1"])
        self.assertEqual(sorted(leases.tokens), ["it/m1", "it/m2"])
        c.close()
        c.close()
        self.assertFalse(leases.valid)
        self.assertEqual(self.holders("it/m1"), [])
