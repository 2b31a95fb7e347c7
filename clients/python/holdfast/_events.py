"""The session's event stream (protocol.md, "The event stream").

:func:`parse_poll` turns one long-poll answer into a :class:`PollResult` (pure, tested with
canned JSON); :func:`lost_in_gap` says which held leases a gap's state no longer lists;
:class:`EventPoller` is the daemon thread that long-polls ``GET /api/v1/sessions/{id}/events``
through :class:`LongPoll`, as watches do.
"""

import logging
import threading
import urllib.parse
from typing import Any, Callable, Iterable, List, Optional, Set, Tuple

from ._longpoll import LongPoll
from ._threads import Worker
from ._transport import Answer, Transport

log = logging.getLogger("holdfast")

POLL_WAIT_MILLIS = 20000


class PollResult:
    """What one answer of the event stream says."""

    def __init__(self) -> None:
        self.next: Optional[str] = None
        #: (name, token, reason) of every ``lost`` event, in order
        self.lost: List[Tuple[str, int, str]] = []
        #: the session ended: ``sessionExpired`` event, or a gap whose state does not exist
        self.expired = False
        #: ``sessionClosed`` event
        self.closed = False
        self.gap = False
        #: for a gap: the (name, token) of every grant the session holds at ``next``
        self.holds: Optional[Set[Tuple[str, int]]] = None


def parse_poll(body: Any) -> PollResult:
    """Reads a 200 answer of the event stream. Unknown event types are ignored."""
    r = PollResult()
    if not isinstance(body, dict):
        raise ValueError("the event stream answered something that is not a JSON object")
    nxt = body.get("next")
    if nxt is not None:
        r.next = str(nxt)
    if body.get("gap"):
        r.gap = True
        state = body.get("state") if isinstance(body.get("state"), dict) else {}
        if state.get("exists") is False:
            r.expired = True
        holds = set()
        for h in state.get("holds") or []:
            if isinstance(h, dict) and "name" in h and h.get("token") is not None:
                holds.add((str(h["name"]), int(h["token"])))
        r.holds = holds
    for ev in body.get("events") or []:
        if not isinstance(ev, dict):
            continue
        t = ev.get("type")
        if t == "lost" and "name" in ev and ev.get("token") is not None:
            reason = ev.get("reason")
            if reason not in ("revoked", "leaseTimeout", "sessionExpired"):
                reason = "unknown"
            r.lost.append((str(ev["name"]), int(ev["token"]), reason))
        elif t == "sessionExpired":
            r.expired = True
        elif t == "sessionClosed":
            r.closed = True
    return r


def lost_in_gap(holds: Set[Tuple[str, int]], leases: Iterable[Any]) -> List[Any]:
    """The leases (objects with ``name`` and ``fencing_token``) that ``holds`` does not list."""
    return [l for l in leases if (l.name, l.fencing_token) not in holds]


class EventPoller(Worker):
    """Long-polls the event stream until ``stop`` is set; hands each answer to ``on_result``.

    ``on_result(result, sent_at)`` gets the parsed answer and the time of the client's clock at
    which its poll was sent; ``on_gone()`` is called when the stream answers ``410``.
    """

    def __init__(self, transport: Transport, session_id: str, stop: threading.Event,
                 on_result: Callable[[PollResult, float], None], on_gone: Callable[[], None],
                 wait_millis: int = POLL_WAIT_MILLIS) -> None:
        self._on_result = on_result
        self._on_gone = on_gone
        base = "/api/v1/sessions/%s/events?" % urllib.parse.quote(session_id, safe="")
        self._poll = LongPoll(transport, "event stream", lambda after: base + urllib.parse.urlencode(
            {"waitMillis": str(wait_millis)} if after is None
            else {"waitMillis": str(wait_millis), "after": after}), wait_millis, stop)
        super().__init__("holdfast-events", transport.threads)

    @property
    def position(self) -> Optional[str]:
        """The ``next`` of the last answer: where the stream goes on from."""
        return self._poll.position

    def _run(self) -> None:
        self._poll.run(parse_poll, self._take, self._final)

    def _take(self, result: PollResult, sent_at: float) -> bool:
        if result.gap:
            log.info("holdfast: event stream answered a gap at %s", result.next)
        try:
            self._on_result(result, sent_at)
        except Exception:
            log.exception("holdfast: handling the event stream failed")
        return not (result.expired or result.closed)

    def _final(self, a: Answer) -> Optional[bool]:
        if a.status == 410:
            self._on_gone()
            return True
        return None
