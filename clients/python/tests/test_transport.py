"""The transport's abort_all, which close() uses to stop the waits and the long polls, its
leader search while the members answer NOT_LEADER (an election), and its deadline on the
client's clock."""

import http.client
import socket
import threading
import time
import unittest
from unittest import mock

from holdfast import errors
from holdfast._transport import LeaderSearch, Transport

from .fakecluster import Cluster


class AbortAllTest(unittest.TestCase):
    def setUp(self):
        # A member that accepts connections (the kernel does) and never answers a byte.
        self.silent = socket.socket()
        self.silent.bind(("127.0.0.1", 0))
        self.silent.listen(8)
        self.addCleanup(self.silent.close)
        self.transport = Transport(["http://127.0.0.1:%d" % self.silent.getsockname()[1]], 5.0)

    def test_an_exchange_under_way_is_broken(self):
        done = []
        t = threading.Thread(target=lambda: done.append(self._exchange()))
        t.start()
        time.sleep(0.3)  # connected, waiting for the answer
        self.transport.abort_all()
        t.join(2.0)
        self.assertFalse(t.is_alive(), "the exchange outlived abort_all")
        self.assertIsInstance(done[0][0], OSError)

    def test_an_exchange_still_connecting_gives_up_once_connected(self):
        # abort_all lands while the exchange has no socket yet: nothing to shut down then.
        real_connect = http.client.HTTPConnection.connect

        def connect_after_abort(conn):
            self.transport.abort_all()
            real_connect(conn)

        with mock.patch.object(http.client.HTTPConnection, "connect", connect_after_abort):
            error, took = self._exchange()
        self.assertIsInstance(error, ConnectionAbortedError)
        self.assertLess(took, 1.0, "it waited for an answer that never comes")

    def test_an_exchange_begun_after_abort_all_runs(self):
        self.transport.abort_all()
        t = threading.Thread(target=self._exchange, daemon=True)
        t.start()
        t.join(0.5)
        self.assertTrue(t.is_alive(), "a later exchange (close's own request) must not be broken off")

    def _exchange(self):
        t0 = time.monotonic()
        try:
            self.transport.exchange(0, "GET", "/api/v1/watch", None, 5.0)
            return None, time.monotonic() - t0
        except OSError as e:
            return e, time.monotonic() - t0


class LeaderSearchTest(unittest.TestCase):
    """Three members answer 503 NOT_LEADER without naming a leader (an election; the followers
    have not heard from the new leader yet): the call goes round them again after 20 ms doubling to
    100 ms, for 3 s, then with the ordinary backoff."""

    def setUp(self):
        self.cluster = Cluster(3)
        self.addCleanup(self.cluster.stop)
        self.cluster.leader = None
        self.tries = []  # (self.now(), node) of each request to the call's path
        self.now = time.monotonic
        handle = self.cluster.handle

        def recording(nid, method, path, query, body):
            if path == "/api/v1/sessions":
                self.tries.append((self.now(), nid))
                if nid != self.cluster.leader:  # naming no leader, even once one is elected
                    return Cluster._err(503, "NOT_LEADER", "%s does not lead" % nid)
            return handle(nid, method, path, query, body)

        self.cluster.handle = recording
        self.transport = Transport(self.cluster.urls(), 1.0, calls="first")

    def _open(self, seconds):
        return self.transport.call("POST", "/api/v1/sessions", {"sessionId": "s1", "ttlMillis": 5000},
                                   http_timeout=1.0, deadline=time.monotonic() + seconds)

    def test_a_member_elected_is_found_within_a_short_pause(self):
        elected = []

        def elect():
            self.cluster.leader = "n3"
            elected.append(time.monotonic())

        timer = threading.Timer(0.5, elect)
        timer.start()
        self.addCleanup(timer.cancel)
        answer = self._open(5.0)
        found = time.monotonic()
        self.assertEqual(answer.status, 201)
        self.assertEqual(answer.member, self.cluster.url("n3"))
        # the ordinary backoff (50 ms doubling to 1 s, one member a pause) reaches n3 again only
        # after five pauses, 775 ms at the least: 275 ms after the election
        self.assertLess(found - elected[0], 0.3, "found the new leader %.0f ms after its election"
                        % ((found - elected[0]) * 1000))
        # rounds of three, at least 10 ms apart (50 ms from the fourth): no busy loop
        self.assertLessEqual(len(self.tries), 75)
        self.assertEqual([n for _, n in self.tries[:3]], ["n1", "n2", "n3"], "a round, without pauses")

    def test_the_pauses_of_a_search(self):
        search = LeaderSearch()
        now, pauses = 10.0, []
        while True:
            pause = search.pause(now)
            if pause is None:
                break
            pauses.append(pause)
            now += pause + 0.003  # a round of three quick answers
        self.assertTrue(all(0.01 <= p <= 0.1 for p in pauses), pauses)
        self.assertTrue(all(p >= 0.05 for p in pauses[3:]), "20, 40, 80, then 100 ms, halved at most")
        self.assertLessEqual(now - 0.003 - 10.0, 3.0)
        self.assertGreater(now - 10.0, 2.8)
        self.assertIsNone(search.pause(now + 0.5), "over for good")

    def test_after_3_s_of_search_the_pauses_grow_again(self):
        # On a clock that moves only when the client waits (FakeClock): a loaded machine's slow
        # rounds cannot thin out the search's rounds, as they did on the real clock.
        clock = FakeClock()
        self.now = clock.now
        self.transport = Transport(self.cluster.urls(), 1.0, clock=clock, calls="first")
        started = clock.now()
        with self.assertRaises(errors.Unavailable):
            self.transport.call("POST", "/api/v1/sessions", {"sessionId": "s1", "ttlMillis": 5000},
                                http_timeout=1.0, deadline=clock.now() + 5.0, stop=threading.Event())
        gaps = [(b[0] - started, b[0] - a[0]) for a, b in zip(self.tries, self.tries[1:])]
        during = [gap for at, gap in gaps if at < 2.9]
        after = [gap for at, gap in gaps if at > 3.2]
        # the ordinary backoff would have tried 10 times at most by 2.9 s, its sixth pause 500 ms or more
        self.assertGreater(len(during), 3 * 20, "rounds while the search lasts: %s" % during)
        self.assertLess(max(during), 0.4, "pauses while the search lasts: %s" % during)
        # the ordinary backoff starts again from 50 ms: its fifth pause, 400 to 800 ms, ends by 4.7 s
        self.assertGreater(max(after), 0.35, "pauses once the search is over: %s" % after)


class FakeClock:
    """A clock that only moves when the code waits on it: each wait or sleep moves it by the whole
    timeout at once (the event is never set meanwhile in these tests)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self.waits = []

    def now(self) -> float:
        return self.t

    def wait(self, event, timeout):
        if event.is_set():
            return True
        self.waits.append(timeout)
        self.t += max(0.0, timeout)
        return event.is_set()

    def sleep(self, seconds):
        self.waits.append(seconds)
        self.t += max(0.0, seconds)


class ClockTest(unittest.TestCase):
    def test_a_call_gives_up_when_its_deadline_passes_on_the_clients_clock(self):
        # A member that refuses connections: every round fails at once, then a pause.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        clock = FakeClock()
        transport = Transport(["http://127.0.0.1:%d" % port], 1.0, clock=clock)
        started = time.monotonic()
        with self.assertRaises(errors.Unavailable) as raised:
            transport.call("POST", "/api/v1/sessions", {}, http_timeout=1.0,
                           deadline=clock.now() + 600.0, stop=threading.Event())
        self.assertIn("connection refused", str(raised.exception))
        self.assertGreaterEqual(clock.now(), 1600.0, "gave up before its deadline on the clock")
        self.assertLess(time.monotonic() - started, 20.0, "ten minutes of the clock took real minutes")
        self.assertTrue(clock.waits and all(0 < w <= 1.0 for w in clock.waits),
                        "the pauses (50 ms doubling to 1 s) were waited on the clock: %s" % clock.waits[:5])


if __name__ == "__main__":
    unittest.main()
