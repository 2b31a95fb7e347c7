"""Runs user callbacks on one thread of their own (of the client's thread factory), never on a
thread doing HTTP or holding the library's locks."""

import logging
import queue
import threading
from typing import Any, Callable

from ._threads import start

log = logging.getLogger("holdfast")


class Dispatcher:
    """A queue of calls, run in order by one thread of ``threads``; a callback's exception is
    logged."""

    def __init__(self, threads: Callable[[Callable[[], None], str], Any],
                 name: str = "holdfast-callbacks") -> None:
        self._threads = threads
        self._queue: "queue.Queue[Any]" = queue.Queue()
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = start(threads, self._run, name)

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            if not self._stopped:
                self._queue.put((fn, args))
                return
        # After stop (a callback registered on a lease lost before close): a thread of its own.
        start(self._threads, lambda: self._call(fn, args), self._thread.name)

    def stop(self, timeout: float = 1.0) -> None:
        """Lets the queued callbacks run, then ends the thread (waits at most ``timeout``)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._call(*item)

    @staticmethod
    def _call(fn: Callable[..., Any], args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # a user's callback must not end the thread
            log.exception("holdfast: a loss callback raised")
