"""The library's own daemon threads, and breaking an exchange another thread is blocked on."""

import socket
import threading
from typing import Any


class Worker:
    """One daemon thread, named ``name``, that runs the subclass's ``_run`` once started.

    ``join`` from that thread itself returns at once (a callback on it may close the client)."""

    def __init__(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError


def shut_down(conn: Any) -> None:
    """Breaks the exchange under way on ``conn`` (an ``http.client`` connection, or None): a thread
    blocked reading its answer returns. A connection not open, or closed already, is left alone."""
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
