"""The long poll that the session's event stream and watches share (protocol.md, "The event
stream" and "Watches").

:class:`LongPoll` asks ``path(after)`` at the client's home member (any member serves both),
hands each 200 answer to its taker and asks again from the answer's ``next``; after
a network error, an unreadable answer or a failing status it moves with the home (to another
member, see :meth:`Transport.rotate`) and waits a backoff first; a refused position (``400`` while it has one) starts again without one, which the
server answers with the state (a gap).
"""

import logging
import threading
from typing import Any, Callable, Optional

from ._transport import Answer, Backoff, Transport

log = logging.getLogger("holdfast")


class LongPoll:
    """Polls until ``stop`` is set or a callback ends it; ``position`` is the ``next`` to ask from
    (None: the beginning)."""

    def __init__(self, transport: Transport, what: str, path: Callable[[Optional[str]], str],
                 wait_millis: int, stop: threading.Event,
                 on_open: Optional[Callable[[Any], None]] = None) -> None:
        self._transport = transport
        self._what = what
        self._path = path
        self._timeout = wait_millis / 1000.0 + transport.request_timeout
        self._stop = stop
        self._on_open = on_open
        self.position: Optional[str] = None

    def run(self, parse: Callable[[Any], Any], take: Callable[[Any, float], bool],
            final: Callable[[Answer], Any], ended: Callable[[], Any] = lambda: None) -> Any:
        """Polls until ``stop`` is set (returns None) or the poll ends, returning what ended it:

        - ``ended()``, asked before each poll and when ``take`` gives up: not None ends the poll;
        - ``parse(body)``: a 200 answer's body read (with a ``next``), ValueError or TypeError if
          it is not one; ``take(page, sent_at)`` handles it (``sent_at``: the client's clock
          when its poll was sent), False to end the poll;
        - ``final(answer)``: for any other answer but a refused position, not None to end the poll
          with it; None to try another member.
        """
        backoff = Backoff()
        t = self._transport
        while not self._stop.is_set():
            end = ended()
            if end is not None:
                return end
            index = t.home()
            sent_at = t.clock.now()
            try:
                a = t.exchange(index, "GET", self._path(self.position), None, self._timeout,
                               on_open=self._opened)
            except OSError as e:
                if self._stop.is_set():
                    return None
                log.debug("holdfast: %s at %s: %s", self._what, t.members[index], e)
                self._next_member(index, backoff)
                continue
            if self._stop.is_set():
                return None
            if a.status == 200:
                try:
                    page = parse(a.body)
                except (ValueError, TypeError) as e:
                    log.warning("holdfast: %s at %s: %s", self._what, a.member, e)
                    self._next_member(index, backoff)
                    continue
                backoff.reset()
                if not take(page, sent_at):
                    return ended()
                if page.next is not None:
                    self.position = page.next
                continue
            if a.status == 400 and self.position is not None:
                log.warning("holdfast: %s at %s refused position %s: %s; reading the state",
                            self._what, a.member, self.position, a.error_field("message"))
                self.position = None
                continue
            end = final(a)
            if end is not None:
                return end
            log.warning("holdfast: %s at %s answered %d %s", self._what, a.member, a.status,
                        a.error_code() or "")
            self._next_member(index, backoff)
        return None

    def _opened(self, conn: Any) -> None:
        """Connected: gives up if stopped meanwhile (whoever stops it then breaks the exchanges
        under way, which this one was not yet), else tells ``on_open``."""
        if self._stop.is_set():
            raise ConnectionAbortedError("the %s is stopped" % self._what)
        if self._on_open is not None:
            self._on_open(conn)

    def _next_member(self, index: int, backoff: Backoff) -> None:
        self._transport.rotate(index)
        self._transport.clock.wait(self._stop, backoff.next_delay())
