"""The library's own threads: every one is made by its client's one thread factory, so that a test
(or an application that wants its own) can give the client a factory instead of the default.

A thread factory is a callable ``threads(target, name)`` that returns a thread not yet started
which, once its ``start()`` is called, runs ``target()`` once: a :class:`threading.Thread`, or an
object with the same ``start()``, ``join(timeout)`` and ``name``, which is
``threading.current_thread()`` while ``target`` runs. :func:`daemon_threads` is the default: a
daemon :class:`threading.Thread` of that name. The names say what a thread does:
``holdfast-keepalive``, ``holdfast-events``, ``holdfast-callbacks``, ``holdfast-renew-NAME``,
``holdfast-resend-N``, ``holdfast-watch-NAME`` and ``holdfast-observe-NAME``.

Also here: breaking an exchange another thread is blocked on (:func:`shut_down`).
"""

import socket
import threading
from typing import Any, Callable


def daemon_threads(target: Callable[[], None], name: str) -> threading.Thread:
    """The thread factory of a client not given one: a daemon thread named ``name``."""
    return threading.Thread(target=target, name=name, daemon=True)


def start(threads: Callable[[Callable[[], None], str], Any], target: Callable[[], None],
          name: str) -> Any:
    """Makes a thread of ``threads`` that runs ``target`` and starts it; returns it."""
    thread = threads(target, name)
    thread.start()
    return thread


class Worker:
    """One thread of the factory ``threads``, named ``name``, that runs the subclass's ``_run``
    once started.

    ``join`` from that thread itself returns at once (a callback on it may close the client)."""

    def __init__(self, name: str, threads: Callable[[Callable[[], None], str], Any]) -> None:
        self._thread = threads(self._run, name)

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
