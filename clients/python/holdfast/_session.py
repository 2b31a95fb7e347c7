"""A session (protocol.md, "Sessions"): opening it, keeping it alive, and :class:`Session`, the
internal interface through which a client's keys, leases and watches use it.

The session id is chosen here (128+ random bits), so an open whose answer was lost is simply
re-sent with the same id. :class:`Heartbeat` is the daemon thread that sends
``POST /api/v1/sessions/{id}/keepalive`` every TTL/3 to the client's home member (which relays it
to the leader), retries a failed one at the other members, and declares the session expired when no heartbeat was acknowledged for a whole
TTL counted from the sending of the last acknowledged one, or when the server answers ``410``.
"""

import base64
import logging
import secrets
import threading
import urllib.parse
from typing import Any, Callable, Dict, Optional, Tuple

from .errors import HoldfastError, SessionExpired, Unavailable, error_for
from ._events import PollResult, lost_in_gap
from ._ledger import Ledger
from ._threads import Worker, start
from ._transport import Answer, Closed, Transport
from .watch import Watch, target_query

log = logging.getLogger("holdfast")

#: Extra time an acquire keeps retrying beyond its wait and the request timeout.
ACQUIRE_GRACE = 5.0


def new_session_id() -> str:
    """The one form of session ids every Holdfast client and node makes (``SessionIds.newId``):
    22 characters of ``A-Za-z0-9_-``, 16 random bytes whose first byte's top bit is clear (127
    random bits), so it begins with one of ``A-Za-f``, never with ``-``."""
    raw = bytearray(secrets.token_bytes(16))
    raw[0] &= 0x7F
    return base64.urlsafe_b64encode(bytes(raw)).decode("ascii").rstrip("=")


def open_session(transport: Transport, client_name: str, ttl_millis: int, lock_delay_millis: int,
                 deadline: float, stop: Optional[threading.Event] = None) -> str:
    """Opens a session at the home member and returns its id; raises the typed error otherwise."""
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
        #: the client's clock when the last acknowledged heartbeat (or the open) was sent
        self.last_acked_sent = opened_at
        super().__init__("holdfast-keepalive", transport.threads)

    def _run(self) -> None:
        clock = self._transport.clock
        interval = self._ttl / 3.0
        next_at = self.last_acked_sent + interval
        while not clock.wait(self._stop, next_at - clock.now()):
            sent = clock.now()
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
            next_at = clock.now() + min(interval, 1.0)


class Session:
    """One open session, as the parts of a client use it: the documented internal interface that
    keys (:class:`~holdfast.keys.Keys`), leases (:class:`~holdfast.lease.Lease`) and watches
    (:class:`~holdfast.watch.Watch`) are given instead of the :class:`~holdfast.client.Client`
    (as the Node client's ``Keys`` takes its ``Session``). Made by the client; not public API.

    What the parts may use:

    - ``id``, ``transport`` (its ``clock`` is the client's one clock, its ``threads`` the one
      thread factory), ``request_timeout``,
      ``closed`` and ``expired``;
    - :meth:`check_open`, :meth:`read` (a read at the home member), :meth:`write` (a numbered write
      of this session), :meth:`raise_for` (the typed error of a refusal) and :meth:`watch`;
    - for leases: :meth:`release` and :meth:`dispatch` (a loss callback, on the callback thread).

    The client uses the rest: acquires and their withdrawal, the table of leases held and their
    renewals, the event stream's losses, expiry and close. Guaranteed: every numbered write
    carries a number of the session's ledger and is re-sent with it until answered; a lease is
    lost once (its callbacks then run on the dispatcher's thread), released or lost at close.
    """

    def __init__(self, session_id: str, transport: Transport, request_timeout: float,
                 dispatcher: Any, closing: threading.Event) -> None:
        self.id = session_id
        self.transport = transport
        self.clock = transport.clock
        self.threads = transport.threads
        self.request_timeout = request_timeout
        self.ledger = Ledger()
        self._dispatcher = dispatcher
        self._lock = threading.RLock()
        self._leases: Dict[Tuple[str, int], Any] = {}
        self._early_losses: Dict[Tuple[str, int], str] = {}
        self.closing = closing  # close() called: user calls stop retrying
        self.stopped = threading.Event()  # background loops stop (closed or expired)
        self._expired = False
        self._closed = False

    # ---------------------------------------------------------------- state

    @property
    def expired(self) -> bool:
        return self._expired

    @property
    def closed(self) -> bool:
        return self._closed

    def check_open(self) -> None:
        if self._closed:
            raise Closed("holdfast: the client is closed")
        if self._expired:
            raise SessionExpired("holdfast: session %s expired" % self.id)

    def dispatch(self, fn: Callable[..., Any], *args: Any) -> None:
        """Runs ``fn(*args)`` on the client's callback thread."""
        self._dispatcher.submit(fn, *args)

    def watch(self, lock: Optional[str] = None, *, prefix: Optional[str] = None,
              register: Optional[str] = None, keys: Optional[str] = None) -> Watch:
        """A watch of exactly one target (see :meth:`Client.watch`) through this session."""
        self.check_open()
        kind, name = target_query(lock, prefix, register, keys)
        return Watch(self, kind, name)

    # ---------------------------------------------------------------- requests

    def read(self, method: str, path: str) -> Answer:
        """An unnumbered request at the home member (reads), retried until about 3x the request timeout."""
        self.check_open()
        return self.transport.call(method, path, None, http_timeout=self.request_timeout,
                                   deadline=self.clock.now() + 3 * self.request_timeout,
                                   stop=self.closing)

    def write(self, path: str, body: Dict[str, Any], *, deadline: Optional[float] = None,
              http_timeout: Optional[float] = None, background: bool = False) -> Answer:
        """Sends a numbered request until its final answer. If none comes in time, the request is
        re-sent in the background (same number) until answered, and Unavailable is raised."""
        self.check_open()
        n = self.ledger.begin()
        stamped = self.ledger.stamp(n, body)
        if deadline is None:
            deadline = self.clock.now() + 3 * self.request_timeout
        try:
            a = self.transport.call("POST", path, stamped,
                                    http_timeout=http_timeout or self.request_timeout,
                                    deadline=deadline,
                                    stop=self.stopped if background else self.closing)
        except Unavailable:
            self._resend_later(n, path, stamped)
            raise
        self.ledger.finish(n)
        if a.status == 410:
            self.raise_for(a)
        return a

    def raise_for(self, a: Answer) -> None:
        """Raises the typed error of a refusal; a ``SessionExpired`` expires the session first."""
        err = error_for(a.status, a.body, a.member)
        if isinstance(err, SessionExpired):
            self.expire("sessionExpired")
        raise err

    def is_current(self, name: str, token: int) -> bool:
        """Whether ``token`` is a current grant of lock ``name`` (linearizable, at any member)."""
        q = urllib.parse.urlencode({"name": name, "token": str(token)})
        a = self.read("GET", "/api/v1/fence?" + q)
        if not a.ok:
            self.raise_for(a)
        return bool(a.body.get("current")) if isinstance(a.body, dict) else False

    def acquire_call(self, path: str, body: Dict[str, Any], name: str,
                     wait_ms: int) -> Tuple[Answer, float]:
        """Sends an acquire; returns its answer and when its lease timeout starts."""
        self.check_open()
        n = self.ledger.begin()
        stamped = self.ledger.stamp(n, body)
        wait_s = wait_ms / 1000.0
        sent_at = self.clock.now()
        try:
            a = self.transport.call("POST", path, stamped,
                                    http_timeout=wait_s + self.request_timeout,
                                    deadline=sent_at + wait_s + self.request_timeout + ACQUIRE_GRACE,
                                    stop=self.closing)
        except Unavailable:
            self._withdraw_later(n, name)
            raise
        self.ledger.finish(n)
        if not a.ok:
            self.raise_for(a)
        # When the lease timeout starts, for renewals: a try-once is granted after it was sent; a
        # wait when its answer comes (a grant lost meanwhile is answered LOCK_LOST instead).
        return a, (sent_at if wait_ms == 0 else self.clock.now())

    def _resend_later(self, n: int, path: str, stamped: Dict[str, Any],
                      on_answer: Optional[Callable[[Answer], None]] = None) -> None:
        """Keeps sending a request whose answer was lost until answered (or the session ends),
        so that its number stops being outstanding."""

        def run() -> None:
            while not self.stopped.is_set():
                try:
                    a = self.transport.call("POST", path, stamped,
                                            http_timeout=self.request_timeout,
                                            deadline=self.clock.now() + 30.0, stop=self.stopped)
                except HoldfastError:
                    continue
                self.ledger.finish(n)
                if on_answer is not None:
                    try:
                        on_answer(a)
                    except Exception:
                        log.exception("holdfast: resolving request %d failed", n)
                return

        start(self.threads, run, "holdfast-resend-%d" % n)

    def _withdraw_later(self, n: int, name: str) -> None:
        """An acquire without an answer: cancel its wait in the background, keep its number
        outstanding until the cancel is answered, and release a grant the cancel reports."""
        m = self.ledger.begin()
        cancel = self.ledger.stamp(m, {"session": self.id, "name": name, "waitRequestId": n})

        def settled(a: Answer) -> None:
            self.ledger.finish(n)
            b = a.body if isinstance(a.body, dict) else {}
            if a.ok and not b.get("cancelled") and b.get("token") is not None:
                try:
                    self.write("/api/v1/release",
                               {"session": self.id, "name": name, "token": int(b["token"])},
                               background=True)
                except HoldfastError:
                    pass

        self._resend_later(m, "/api/v1/cancel", cancel, settled)

    # ---------------------------------------------------------------- leases

    def adopt(self, lease: Any) -> None:
        """Registers a new grant (unless a loss for it already arrived) and starts its renewals."""
        key = (lease.name, lease.fencing_token)
        with self._lock:
            early = self._early_losses.pop(key, None)
            gone = self._expired or self._closed
            if early is None and not gone:
                self._leases[key] = lease
        if early is not None:
            lease._mark_lost(early)
        elif gone:
            lease._mark_lost("sessionExpired")
        elif lease.lease_timeout:
            start(self.threads, lambda: self._renew_loop(lease), "holdfast-renew-%s" % lease.name)

    def _forget(self, lease: Any) -> None:
        with self._lock:
            if self._leases.get((lease.name, lease.fencing_token)) is lease:
                del self._leases[(lease.name, lease.fencing_token)]

    def _lose(self, lease: Any, reason: str) -> None:
        self._forget(lease)
        lease._mark_lost(reason)

    def release(self, lease: Any) -> None:
        """Releases a lease of this session (see :meth:`Lease.release`)."""
        if not lease.valid:
            return
        if self._closed or self._expired:
            return  # close released it; expiry lost it (and said so)
        body = {"session": self.id, "name": lease.name, "token": lease.fencing_token}
        try:
            a = self.write("/api/v1/release", body, background=True)
        except Closed:
            return
        except SessionExpired:
            return
        except Unavailable:
            self._forget(lease)
            lease._mark_released()
            raise
        if a.ok:
            self._forget(lease)
            lease._mark_released()
            return
        if a.error_code() == "NOT_OWNER":
            # Lost; the loss is normally reported at the same moment: give it a second.
            if self.clock.wait(lease._done, 1.0) and not lease.valid:
                self._forget(lease)
                return
            self._lose(lease, "unknown")
            raise error_for(a.status, a.body, a.member)
        self.raise_for(a)

    def _renew_loop(self, lease: Any) -> None:
        lease_s = lease.lease_timeout or 0.0
        interval = lease_s / 3.0
        last_acked_sent = lease._acquired_at
        next_at = last_acked_sent + interval
        body = {"session": self.id, "name": lease.name, "token": lease.fencing_token}
        while not self.clock.wait(lease._done, next_at - self.clock.now()):
            if self.stopped.is_set():
                return
            sent = self.clock.now()
            deadline = last_acked_sent + lease_s
            if sent >= deadline:
                self._lose(lease, "leaseTimeout")
                return
            try:
                a = self.write("/api/v1/renew", body, deadline=deadline,
                               http_timeout=min(self.request_timeout, interval), background=True)
            except Unavailable:
                self._lose(lease, "leaseTimeout")
                return
            except HoldfastError:  # closed or expired: handled there
                return
            if a.ok:
                last_acked_sent = sent
                next_at = sent + interval
                continue
            if a.error_code() == "NOT_OWNER":
                # The event stream normally says why (revoked, leaseTimeout) at the same moment.
                if not self.clock.wait(lease._done, 0.5):
                    self._lose(lease, "leaseTimeout")
                return
            log.warning("holdfast: renewing %s: %s", lease.name, error_for(a.status, a.body, a.member))
            next_at = self.clock.now() + min(interval, 1.0)  # keep trying until the lease timeout

    # ---------------------------------------------------------------- losses

    def on_events(self, r: PollResult, sent_at: float) -> None:
        """What the event stream told: losses, the session's end, a gap to check the leases by."""
        for name, token, reason in r.lost:
            with self._lock:
                lease = self._leases.pop((name, token), None)
                if lease is None:
                    self._early_losses[(name, token)] = reason
                    while len(self._early_losses) > 1024:
                        self._early_losses.pop(next(iter(self._early_losses)))
            if lease is not None:
                lease._mark_lost(reason)
        if r.expired:
            self.expire("sessionExpired")
            return
        if r.closed and not self.closing.is_set():
            self.expire("sessionExpired")
            return
        if r.gap and r.holds is not None:
            with self._lock:
                held = list(self._leases.values())
            for lease in lost_in_gap(r.holds, held):
                # A grant made after the state was taken is not listed either: ask the leader
                # (linearizable) before declaring it lost.
                if not self._still_current(lease):
                    self._lose(lease, "unknown")

    def _still_current(self, lease: Any) -> bool:
        try:
            return self.is_current(lease.name, lease.fencing_token)
        except HoldfastError:
            return False

    def expire(self, reason: str) -> None:
        """The session is gone: every lease is lost, background loops stop, later calls raise."""
        with self._lock:
            if self._expired or self._closed:
                return
            self._expired = True
            leases = list(self._leases.values())
            self._leases.clear()
        self.stopped.set()
        log.warning("holdfast: session %s expired", self.id)
        for lease in leases:
            lease._mark_lost(reason)

    # ---------------------------------------------------------------- close

    def close(self) -> None:
        """Stops the background loops, closes the session (its grants are released) and marks the
        leases released (no loss callbacks). Idempotent; never raises for an unreachable cluster
        (the session then expires after its TTL)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            was_expired = self._expired
            leases = list(self._leases.values())
            self._leases.clear()
        self.closing.set()
        self.stopped.set()
        self.transport.abort_all()
        if not was_expired:
            n = self.ledger.begin()
            body = self.ledger.stamp(n, {})
            try:
                a = self.transport.call(
                    "DELETE", "/api/v1/sessions/" + urllib.parse.quote(self.id, safe=""),
                    body, http_timeout=self.request_timeout,
                    deadline=self.clock.now() + 2 * self.request_timeout)
                if not a.ok and a.status not in (404, 410):
                    log.warning("holdfast: closing session %s: %s", self.id,
                                error_for(a.status, a.body, a.member))
            except HoldfastError as e:
                log.warning("holdfast: closing session %s: %s", self.id, e)
        for lease in leases:
            lease._mark_released()
        self.transport.abort_all()
        self._dispatcher.stop(1.0)
