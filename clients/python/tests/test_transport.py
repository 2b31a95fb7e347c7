"""The transport's abort_all, which close() uses to stop the waits and the long polls."""

import http.client
import socket
import threading
import time
import unittest
from unittest import mock

from holdfast._transport import Transport


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


if __name__ == "__main__":
    unittest.main()
