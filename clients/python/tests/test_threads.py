"""The client's one thread factory (``Client(threads=...)``, holdfast/_threads.py) makes every
background thread: heartbeats, the event stream, callbacks, renewals, watches and observations,
with the names they had before there was a choice; by default daemon threads."""

import threading

from holdfast._threads import daemon_threads

from .fakecluster import FakeClusterCase


class Recording:
    """A thread factory that remembers the name of every thread it made."""

    def __init__(self):
        self.names = []
        self._lock = threading.Lock()

    def __call__(self, target, name):
        with self._lock:
            self.names.append(name)
        return threading.Thread(target=target, name=name, daemon=True)


class ThreadFactoryTest(FakeClusterCase):
    def test_every_background_thread_comes_from_the_factory(self):
        threads = Recording()
        client = self.new_client(threads=threads)
        self.assertEqual(sorted(threads.names),
                         ["holdfast-callbacks", "holdfast-events", "holdfast-keepalive"])
        lease = client.acquire("jobs/a", lease_timeout=3)
        watch = client.watch("jobs/a")
        observation = client.election("svc/x").observe()
        try:
            self.assertEqual(sorted(threads.names[3:]),
                             ["holdfast-observe-svc/x", "holdfast-observe-svc/x",
                              "holdfast-renew-jobs/a", "holdfast-watch-jobs/a",
                              "holdfast-watch-svc/x", "holdfast-watch-svc/x"])
        finally:
            observation.close()
            watch.close()
            lease.release()

    def test_by_default_the_threads_are_daemons_with_their_names(self):
        thread = daemon_threads(lambda: None, "holdfast-test")
        self.assertTrue(thread.daemon)
        self.assertEqual(thread.name, "holdfast-test")
        self.assertFalse(thread.is_alive())
        client = self.new_client()
        self.assertIs(client._transport.threads, daemon_threads)
        mine = [t for t in threading.enumerate() if t.name == "holdfast-keepalive"]
        self.assertTrue(mine and all(t.daemon for t in mine))
