"""Opening a session and keeping it alive (protocol.md, "Sessions").

The session id is chosen here (128+ random bits), so an open whose answer was lost is simply
re-sent with the same id. :class:`Heartbeat` is the daemon thread that sends
``POST /api/v1/sessions/{id}/keepalive`` every TTL/3 to the leader, retries a failed one at the
other members, and declares the session expired when no heartbeat was acknowledged for a whole
TTL counted from the sending of the last acknowledged one, or when the server answers ``410``.
"""

import base64
import logging
import secrets
import threading
import time
import urllib.parse
from typing import Callable, Optional

from .errors import HoldfastError, error_for
from ._threads import Worker
from ._transport import Transport

log = logging.getLogger("holdfast")


def new_session_id() -> str:
    """32 characters of ``A-Za-z0-9_-`` (192 random bits), never starting with ``-``."""
    while True:
        sid = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode("ascii").rstrip("=")
        if not sid.startswith("-"):
            return sid


def open_session(transport: Transport, client_name: str, ttl_millis: int, lock_delay_millis: int,
                 deadline: float, stop: Optional[threading.Event] = None) -> str:
    """Opens a session at the leader and returns its id; raises the typed error otherwise."""
    body = {"clientName": client_name, "ttlMillis": ttl_millis, "sessionId": new_session_id()}
    if lock_delay_millis:
        body["lockDelayMillis"] = lock_delay_millis
    a = transport.call("POST", "/api/v1/sessions", body, http_timeout=transport.request_timeout,
                       deadline=deadline, stop=stop)
    if a.ok and isinstance(a.body, dict) and a.body.get("sessionId"):
        return str(a.body["sessionId"])
    if a.ok:
        raise HoldfastError("holdfast: %s answered the session open without a sessionId" % a.member,
                            code="UNAVAILABLE", status=a.status)
    raise error_for(a.status, a.body, a.member)


class Heartbeat(Worker):
    """Keeps one session alive until ``stop`` is set; calls ``on_expired()`` once it is lost."""

    def __init__(self, transport: Transport, session_id: str, ttl: float, opened_at: float,
                 stop: threading.Event, on_expired: Callable[[], None]) -> None:
        self._transport = transport
        self._path = "/api/v1/sessions/%s/keepalive" % urllib.parse.quote(session_id, safe="")
        self._ttl = ttl
        self._stop = stop
        self._on_expired = on_expired
        #: monotonic time at which the last acknowledged heartbeat (or the open) was sent
        self.last_acked_sent = opened_at
        super().__init__("holdfast-keepalive")

    def _run(self) -> None:
        interval = self._ttl / 3.0
        next_at = self.last_acked_sent + interval
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            sent = time.monotonic()
            deadline = self.last_acked_sent + self._ttl
            if sent >= deadline:
                self._on_expired()
                return
            try:
                a = self._transport.call("POST", self._path, {},
                                         http_timeout=min(self._transport.request_timeout, interval),
                                         deadline=deadline, stop=self._stop)
            except HoldfastError as e:  # Unavailable at the deadline, or Closed
                if self._stop.is_set():
                    return
                log.warning("holdfast: session lost, no heartbeat acknowledged for %.1f s: %s",
                            self._ttl, e)
                self._on_expired()
                return
            if a.ok:
                self.last_acked_sent = sent
                next_at = sent + interval
                continue
            if a.status in (404, 410):
                self._on_expired()
                return
            # Another refusal (permission, ...): keep trying until the TTL runs out.
            log.warning("holdfast: heartbeat refused: %s", error_for(a.status, a.body, a.member))
            next_at = time.monotonic() + min(interval, 1.0)
