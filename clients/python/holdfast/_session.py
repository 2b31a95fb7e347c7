"""A session (protocol.md, "Sessions"): opening it, keeping it alive, and :class:`Session`, the
internal interface through which a client's keys, leases and watches use it.

The session id is chosen here (128+ random bits), so an open whose answer was lost is simply
re-sent with the same id. :class:`Heartbeat` is the daemon thread that sends
``POST /api/v1/sessions/{id}/keepalive`` every TTL/3 to the client's home member (which relays it
to the leader), retries a failed one at the other members, and declares the session expired when no heartbeat was acknowledged for a whole
TTL counted from the sending of the last acknowledged one, or when the server answers ``410``.

A client outlives its sessions (docs/adr/0004-clients-outlive-their-session.md): when one is lost,
:class:`Session` opens the next (a new id) with :class:`RenewBackoff` until one opens or the
client is closed, unless the client opted out (``renew_sessions=False``).
"""

import base64
import logging
import random
import secrets
import threading
import urllib.parse
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import Conflict, HoldfastError, SessionExpired, Unavailable, error_for
from ._events import EventPoller, PollResult, lost_in_gap
from ._ledger import Ledger
from ._threads import Worker, start
from ._transport import Answer, Closed, Transport
from .keys import Group, Keys
from .watch import Watch, target_query
from ._durations import format_duration

log = logging.getLogger("holdfast")

#: Extra time an acquire keeps retrying beyond its wait and the request timeout.
ACQUIRE_GRACE = 5.0


#: The first pause before trying again to open a session, in seconds (clients/vectors/limits.json).
RENEW_FIRST = 0.1
#: The longest such pause, in seconds: a service that comes back is found within it (ADR 0004).
RENEW_CAP = 2.0
#: The first pause before a group member's join under a new session is tried again, in seconds
#: (clients/vectors/limits.json).
REJOIN_FIRST = 0.1
#: The longest such pause, in seconds: a member is back within about it once the service answers.
REJOIN_CAP = 1.0


class RenewBackoff:
    """The pauses between tries to open the next session: from 100 ms, doubling, at most 2 s,
    each drawn at random between 0 and it (full jitter). ``rng`` has ``random()``."""

    def __init__(self, rng: Any = None, first: float = RENEW_FIRST, cap: float = RENEW_CAP) -> None:
        self._rng = rng if rng is not None else random
        self._first = first
        self._cap = cap
        self._current = first

    def next_delay(self) -> float:
        d = self._current
        self._current = min(self._cap, self._current * 2)
        return self._rng.random() * d


class RejoinBackoff:
    """The pauses between tries to join one group member again under a new session: from 100 ms,
    doubling, at most 1 s, without jitter (the renewal's jitter spread the clients' new sessions
    already, and one client's members are few). ``given``: how many pauses it gave."""

    def __init__(self, first: float = REJOIN_FIRST, cap: float = REJOIN_CAP) -> None:
        self._cap = cap
        self._current = first
        self.given = 0

    def next_delay(self) -> float:
        d = self._current
        self._current = min(self._cap, self._current * 2)
        self.given += 1
        return d


class SessionListener:
    """What :meth:`Client.on_session` is given (override either method; both do nothing here):
    ``lost(old_id, cause)`` when the session is lost (``cause``: a
    :class:`~holdfast.errors.SessionExpired` naming why), then ``reestablished(new_id)`` when the
    next one is open, in that order, on the client's callback thread."""

    def lost(self, old_id: str, cause: "HoldfastError") -> None:
        pass

    def reestablished(self, new_id: str) -> None:
        pass


class _Generation:
    """One session of the client's life: its id, its ledger of request ids, the event that stops
    its background loops (heartbeat, event stream, renewals, re-sends), and its leases."""

    def __init__(self, session_id: str) -> None:
        self.id = session_id
        self.ledger = Ledger()
        self.stopped = threading.Event()
        self.leases: Dict[Tuple[str, int], Any] = {}
        self.early_losses: Dict[Tuple[str, int], str] = {}


def new_session_id() -> str:
    """The one form of session ids every Holdfast client and node makes (``SessionIds.newId``):
    22 characters of ``A-Za-z0-9_-``, 16 random bytes whose first byte's top bit is clear (127
    random bits), so it begins with one of ``A-Za-f``, never with ``-``."""
    raw = bytearray(secrets.token_bytes(16))
    raw[0] &= 0x7F
    return base64.urlsafe_b64encode(bytes(raw)).decode("ascii").rstrip("=")


def open_session(transport: Transport, client_name: str, ttl_millis: int, lock_delay_millis: int,
                 deadline: float, stop: Optional[threading.Event] = None) -> Tuple[str, float]:
    """Opens a session at the home member and returns its id and when the open that it answered
    was sent (the first heartbeat: a try of the open may go round the members for a while before
    one answers); raises the typed error otherwise.

    Each attempt at one member gets at most half of the time the try has when it begins (and at
    most the request timeout), so that a member that never answers leaves the try time for
    another: with the whole try at one member, a renewal's try of one request timeout was used up
    there and a pause followed."""
    body = {"clientName": client_name, "ttlMillis": ttl_millis, "sessionId": new_session_id()}
    if lock_delay_millis:
        body["lockDelayMillis"] = lock_delay_millis
    attempt = min(transport.request_timeout, max(0.05, (deadline - transport.clock.now()) / 2))
    a = transport.call("POST", "/api/v1/sessions", body, http_timeout=attempt,
                       deadline=deadline, stop=stop)
    if a.ok and isinstance(a.body, dict) and a.body.get("sessionId"):
        return str(a.body["sessionId"]), a.sent_at
    if a.ok:
        raise HoldfastError("holdfast: %s answered the session open without a sessionId" % a.member,
                            code="UNAVAILABLE", status=a.status)
    raise error_for(a.status, a.body, a.member)


class Heartbeat(Worker):
    """Keeps one session alive until ``stop`` is set; calls ``on_expired(cause)`` once it is lost
    (``cause``: why, one line)."""

    def __init__(self, transport: Transport, session_id: str, ttl: float, opened_at: float,
                 stop: threading.Event, on_expired: Callable[[str], None]) -> None:
        self._transport = transport
        self._path = "/api/v1/sessions/%s/keepalive" % urllib.parse.quote(session_id, safe="")
        self._ttl = ttl
        self._stop = stop
        self._on_expired = on_expired
        #: the client's clock when the last acknowledged heartbeat (or the open) was sent
        self.last_acked_sent = opened_at
        super().__init__("holdfast-keepalive", transport.threads)

    def _silence(self) -> str:
        return "no heartbeat acknowledged for %s" % format_duration(self._ttl)

    def _run(self) -> None:
        clock = self._transport.clock
        interval = self._ttl / 3.0
        next_at = self.last_acked_sent + interval
        while not clock.wait(self._stop, next_at - clock.now()):
            sent = clock.now()
            deadline = self.last_acked_sent + self._ttl
            if sent >= deadline:
                self._on_expired(self._silence())
                return
            try:
                a = self._transport.call("POST", self._path, {},
                                         http_timeout=min(self._transport.request_timeout, interval),
                                         deadline=deadline, stop=self._stop)
            except HoldfastError as e:  # Unavailable at the deadline, or Closed
                if self._stop.is_set():
                    return
                # Not logged here: the session logs the loss, with this cause, as it tells its listeners.
                self._on_expired("%s (%s)" % (self._silence(), e))
                return
            if a.ok:
                self.last_acked_sent = sent
                next_at = sent + interval
                continue
            if a.status in (404, 410):
                self._on_expired("the service answered %s to a heartbeat"
                                 % (a.error_code() or a.status))
                return
            # Another refusal (permission, ...): keep trying until the TTL runs out.
            log.warning("holdfast: heartbeat refused: %s", error_for(a.status, a.body, a.member))
            next_at = clock.now() + min(interval, 1.0)


class Session:
    """The client's session, as the parts of a client use it: the documented internal interface
    that keys (:class:`~holdfast.keys.Keys`), leases (:class:`~holdfast.lease.Lease`) and watches
    (:class:`~holdfast.watch.Watch`) are given instead of the :class:`~holdfast.client.Client`
    (as the Node client's ``Keys`` takes its ``Session``). Made by the client; not public API.

    It outlives the sessions it opens: ``id`` is the current one's (the last one's while the next
    is being opened). When one is lost (no heartbeat acknowledged for a TTL, ``SESSION_EXPIRED``,
    ended by an operator), every lease of it is lost, and, unless the client opted out, the next
    is opened with :class:`RenewBackoff` until one opens or the client is closed; the listeners
    (:meth:`add_listener`) are told ``lost`` then ``reestablished``, and the group members this
    client had joined are joined again (:meth:`joined`), each tried again with
    :class:`RejoinBackoff` until it is written (see :meth:`_rejoin`). Opted out, the client ends
    with its session (``expired``).

    What the parts may use:

    - ``id``, ``transport`` (its ``clock`` is the client's one clock, its ``threads`` the one
      thread factory), ``request_timeout``, ``closed``, ``expired`` (ended for good) and
      ``renewing`` (whether a lost session is followed by another);
    - :meth:`check_open`, :meth:`read` (a read at the home member: needs no session),
      :meth:`current` (the session a call is to use, waited for between two), :meth:`write` (a
      numbered write of a session), :meth:`raise_for` (the typed error of a refusal),
      :meth:`watch`, :meth:`own` (whether an id is one of this client's sessions), :meth:`joined`,
      :meth:`left` and :meth:`on_rejoin_failed` (group membership);
    - for leases: :meth:`release` and :meth:`dispatch` (a loss callback, on the callback thread).

    The client uses the rest: acquires and their withdrawal, the table of leases held and their
    renewals, the event stream's losses, expiry and close. Guaranteed: every numbered write
    carries a number of its session's ledger and is re-sent with it until answered; a lease is
    lost once (its callbacks then run on the dispatcher's thread), released or lost at close,
    and never taken again by the library after a loss.
    """

    def __init__(self, transport: Transport, request_timeout: float, dispatcher: Any,
                 closing: threading.Event, ttl: float = 10.0,
                 opener: Optional[Callable[[float, threading.Event], Tuple[str, float]]] = None,
                 renew: bool = False, rng: Any = None) -> None:
        self.transport = transport
        self.clock = transport.clock
        self.threads = transport.threads
        self.request_timeout = request_timeout
        self.ttl = ttl
        self.renewing = renew and opener is not None
        self._opener = opener
        self._rng = rng
        self._dispatcher = dispatcher
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._gen: Optional[_Generation] = None
        self._last_id = ""
        self._own_ids: List[str] = []
        self._lost_cause = ""
        self._listeners: List[Any] = []
        self._joined: Dict[Tuple[str, str], bytes] = {}
        self._rejoin_listeners: Dict[str, List[Callable[[str, Optional[str]], Any]]] = {}
        # One per new session's rejoins (_rejoin): an older session's round stops at a newer one.
        self._rejoin_round = 0
        self.closing = closing  # close() called: user calls stop retrying
        self._expired = False
        self._closed = False
        # The threads opening the next session (expire), then joining its group members again,
        # joined by close(): once close() returns, no try to open one or to join a member again is
        # under way or still to come. Usually one; two while an older one's rejoins still run when
        # the next loss starts another. Each removes itself as it ends.
        self._renewers: List[Any] = []

    def start(self, session_id: str, opened_at: float, renewed: bool = False) -> bool:
        """Begins the life of the session ``session_id``, whose open was sent at ``opened_at``:
        its heartbeat and its event stream; ``renewed``: the listeners are told
        ``reestablished`` first (so before any loss of it). False if the client closed meanwhile."""
        g = _Generation(session_id)
        with self._lock:
            if self._closed:
                return False
            self._gen = g
            self._last_id = session_id
            self._own_ids.append(session_id)
            del self._own_ids[:-64]
            self._changed.notify_all()
            if renewed:
                for listener in self._listeners:
                    if hasattr(listener, "reestablished"):
                        self.dispatch(listener.reestablished, session_id)
        self._start_loops(g, opened_at)
        return True

    def _start_loops(self, g: _Generation, opened_at: float) -> None:
        heartbeat = Heartbeat(self.transport, g.id, self.ttl, opened_at, g.stopped,
                              lambda cause: self.expire("sessionExpired", cause, g))
        poller = EventPoller(self.transport, g.id, g.stopped,
                             lambda r, sent_at: self.on_events(r, sent_at, g),
                             lambda: self.expire("sessionExpired",
                                                 "the service answered SESSION_EXPIRED", g))
        heartbeat.start()
        poller.start()

    # ---------------------------------------------------------------- state

    @property
    def id(self) -> str:
        return self._last_id

    @property
    def expired(self) -> bool:
        """True once the client ended with its session (opted out of renewing)."""
        return self._expired

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def in_gap(self) -> bool:
        """True between a lost session and the next."""
        return self._gen is None and not self._closed and not self._expired

    def own(self, session_id: Optional[str]) -> bool:
        """Whether ``session_id`` is one of this client's sessions (the current, or one lost)."""
        with self._lock:
            return session_id is not None and session_id in self._own_ids

    def check_open(self) -> None:
        if self._closed:
            raise Closed("holdfast: the client is closed")
        if self._expired:
            raise SessionExpired("holdfast: session %s expired" % self.id)

    def current(self, deadline: float) -> _Generation:
        """The session a call that needs one uses: the current one; between two, the next one,
        waited for until ``deadline`` (a time of the clock), then Unavailable naming the cause."""
        with self._lock:
            while True:
                self.check_open()
                if self._gen is not None:
                    return self._gen
                left = deadline - self.clock.now()
                if left <= 0:
                    raise Unavailable("holdfast: no session: the last was lost (%s); opening a new one"
                                      % self._lost_cause)
                self._changed.wait(min(left, 0.05))

    def add_listener(self, listener: Any) -> None:
        with self._lock:
            self._listeners.append(listener)

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
        """An unnumbered request at the home member (reads), retried until about 3x the request
        timeout. Needs no session: it is served between two as well."""
        self.check_open()
        return self.transport.call(method, path, None, http_timeout=self.request_timeout,
                                   deadline=self.clock.now() + 3 * self.request_timeout,
                                   stop=self.closing)

    def write(self, path: str, body: Dict[str, Any], *, deadline: Optional[float] = None,
              http_timeout: Optional[float] = None, background: bool = False,
              gen: Optional[_Generation] = None) -> Answer:
        """Sends a numbered request of session ``gen`` (by default the current one, waited for
        until ``deadline``; its id goes in the body's ``session``) until its final answer. If none
        comes in time, the request is re-sent in the background (same number) until answered,
        and Unavailable is raised."""
        if deadline is None:
            deadline = self.clock.now() + 3 * self.request_timeout
        if gen is None:
            gen = self.current(deadline)
        self.check_open()
        n = gen.ledger.begin()
        stamped = gen.ledger.stamp(n, dict(body, session=gen.id))
        try:
            a = self.transport.call("POST", path, stamped,
                                    http_timeout=http_timeout or self.request_timeout,
                                    deadline=deadline,
                                    stop=gen.stopped if background else self.closing)
        except Unavailable:
            self._resend_later(gen, n, path, stamped)
            raise
        gen.ledger.finish(n)
        if a.status == 410:
            self.raise_for(a, gen)
        return a

    def raise_for(self, a: Answer, gen: Optional[_Generation] = None) -> None:
        """Raises the typed error of a refusal; a ``SessionExpired`` loses the session first."""
        err = error_for(a.status, a.body, a.member)
        if isinstance(err, SessionExpired):
            self.expire("sessionExpired", "the service answered %s" % (a.error_code() or a.status),
                        gen)
        raise err

    def is_current(self, name: str, token: int) -> bool:
        """Whether ``token`` is a current grant of lock ``name`` (linearizable, at any member)."""
        q = urllib.parse.urlencode({"name": name, "token": str(token)})
        a = self.read("GET", "/api/v1/fence?" + q)
        if not a.ok:
            self.raise_for(a)
        return bool(a.body.get("current")) if isinstance(a.body, dict) else False

    def acquire_call(self, path: str, body: Dict[str, Any], name: str,
                     wait_ms: int) -> Tuple[Answer, float, _Generation]:
        """Sends an acquire; returns its answer, when its lease timeout starts, and the session
        that sent it (waited for, between two, within the acquire's wait and request timeout)."""
        wait_s = wait_ms / 1000.0
        gen = self.current(self.clock.now() + wait_s + self.request_timeout)
        n = gen.ledger.begin()
        stamped = gen.ledger.stamp(n, dict(body, session=gen.id))
        sent_at = self.clock.now()
        try:
            a = self.transport.call("POST", path, stamped,
                                    http_timeout=wait_s + self.request_timeout,
                                    deadline=sent_at + wait_s + self.request_timeout + ACQUIRE_GRACE,
                                    stop=self.closing)
        except Unavailable:
            self._withdraw_later(gen, n, name)
            raise
        gen.ledger.finish(n)
        if not a.ok:
            self.raise_for(a, gen)
        # When the lease timeout starts, for renewals: a try-once is granted after it was sent; a
        # wait when its answer comes (a grant lost meanwhile is answered LOCK_LOST instead).
        return a, (sent_at if wait_ms == 0 else self.clock.now()), gen

    def _resend_later(self, gen: _Generation, n: int, path: str, stamped: Dict[str, Any],
                      on_answer: Optional[Callable[[Answer], None]] = None) -> None:
        """Keeps sending a request whose answer was lost until answered (or its session ends),
        so that its number stops being outstanding."""

        def run() -> None:
            while not gen.stopped.is_set():
                try:
                    a = self.transport.call("POST", path, stamped,
                                            http_timeout=self.request_timeout,
                                            deadline=self.clock.now() + 30.0, stop=gen.stopped)
                except HoldfastError:
                    continue
                gen.ledger.finish(n)
                if on_answer is not None:
                    try:
                        on_answer(a)
                    except Exception:
                        log.exception("holdfast: resolving request %d failed", n)
                return

        start(self.threads, run, "holdfast-resend-%d" % n)

    def _withdraw_later(self, gen: _Generation, n: int, name: str) -> None:
        """An acquire without an answer: cancel its wait in the background, keep its number
        outstanding until the cancel is answered, and release a grant the cancel reports."""
        m = gen.ledger.begin()
        cancel = gen.ledger.stamp(m, {"session": gen.id, "name": name, "waitRequestId": n})

        def settled(a: Answer) -> None:
            gen.ledger.finish(n)
            b = a.body if isinstance(a.body, dict) else {}
            if a.ok and not b.get("cancelled") and b.get("token") is not None:
                try:
                    self.write("/api/v1/release", {"name": name, "token": int(b["token"])},
                               background=True, gen=gen)
                except HoldfastError:
                    pass

        self._resend_later(gen, m, "/api/v1/cancel", cancel, settled)

    # ---------------------------------------------------------------- leases

    def adopt(self, lease: Any, gen: Optional[_Generation] = None) -> None:
        """Registers a new grant of session ``gen`` (unless a loss for it already arrived, or the
        session is gone) and starts its renewals."""
        key = (lease.name, lease.fencing_token)
        with self._lock:
            if gen is None:
                gen = self._gen
            lease._gen = gen
            early = gen.early_losses.pop(key, None) if gen is not None else None
            gone = gen is None or gen is not self._gen or gen.stopped.is_set() or self._closed
            if early is None and not gone:
                gen.leases[key] = lease
        if early is not None:
            lease._mark_lost(early)
        elif gone:
            lease._mark_lost("sessionExpired")
        elif lease.lease_timeout:
            start(self.threads, lambda: self._renew_loop(lease, gen),
                  "holdfast-renew-%s" % lease.name)

    def _forget(self, lease: Any) -> None:
        gen = getattr(lease, "_gen", None)
        if gen is None:
            return
        with self._lock:
            if gen.leases.get((lease.name, lease.fencing_token)) is lease:
                del gen.leases[(lease.name, lease.fencing_token)]

    def _lose(self, lease: Any, reason: str) -> None:
        self._forget(lease)
        lease._mark_lost(reason)

    def release(self, lease: Any) -> None:
        """Releases a lease of this client (see :meth:`Lease.release`)."""
        if not lease.valid:
            return
        gen = getattr(lease, "_gen", None)
        if self._closed or self._expired or gen is None or gen.stopped.is_set():
            return  # close released it; a lost session lost it (and said so)
        body = {"name": lease.name, "token": lease.fencing_token}
        try:
            a = self.write("/api/v1/release", body, background=True, gen=gen)
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
        self.raise_for(a, gen)

    def _renew_loop(self, lease: Any, gen: _Generation) -> None:
        lease_s = lease.lease_timeout or 0.0
        interval = lease_s / 3.0
        last_acked_sent = lease._acquired_at
        next_at = last_acked_sent + interval
        body = {"name": lease.name, "token": lease.fencing_token}
        while not self.clock.wait(lease._done, next_at - self.clock.now()):
            if gen.stopped.is_set():
                return
            sent = self.clock.now()
            deadline = last_acked_sent + lease_s
            if sent >= deadline:
                self._lose(lease, "leaseTimeout")
                return
            try:
                a = self.write("/api/v1/renew", body, deadline=deadline,
                               http_timeout=min(self.request_timeout, interval), background=True,
                               gen=gen)
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

    def on_events(self, r: PollResult, sent_at: float, gen: Optional[_Generation] = None) -> None:
        """What session ``gen``'s event stream told: losses, its end, a gap to check the leases by."""
        if gen is None:
            gen = self._gen
        if gen is None:
            return
        for name, token, reason in r.lost:
            with self._lock:
                lease = gen.leases.pop((name, token), None)
                if lease is None:
                    gen.early_losses[(name, token)] = reason
                    while len(gen.early_losses) > 1024:
                        gen.early_losses.pop(next(iter(gen.early_losses)))
            if lease is not None:
                lease._mark_lost(reason)
        if r.expired:
            self.expire("sessionExpired", "the service said the session expired", gen)
            return
        if r.closed and not self.closing.is_set():
            self.expire("sessionExpired", "the session was closed, not by this client", gen)
            return
        if r.gap and r.holds is not None:
            with self._lock:
                held = list(gen.leases.values())
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

    def expire(self, reason: str, cause: str = "the session expired",
               gen: Optional[_Generation] = None) -> None:
        """Session ``gen`` (by default the current one) is lost: every lease of it is lost and
        its background loops stop. Then the next session is opened, or, opted out, the client
        ends (later calls raise SessionExpired)."""
        with self._lock:
            if gen is None:
                gen = self._gen
            if self._closed or self._expired or gen is None or gen is not self._gen:
                return
            leases = list(gen.leases.values())
            gen.leases.clear()
            self._gen = None
            self._lost_cause = cause
            if not self.renewing:
                self._expired = True
            listeners = list(self._listeners)
            self._changed.notify_all()
        gen.stopped.set()
        log.warning("holdfast: session %s lost: %s%s", gen.id, cause,
                    "; opening a new one" if self.renewing else "")
        for lease in leases:
            lease._mark_lost(reason)
        error = SessionExpired("holdfast: session %s was lost: %s" % (gen.id, cause))
        for listener in listeners:
            if hasattr(listener, "lost"):
                self.dispatch(listener.lost, gen.id, error)
        if self.renewing:
            with self._lock:
                if self._closed:
                    return
                self._renewers.append(start(self.threads, self._renew, "holdfast-renew-session"))

    def _renew(self) -> None:
        """Opens the next session, with backoff, until one opens or the client is closed; then
        tells the listeners and joins the group members again."""
        try:
            self._open_next()
        finally:
            with self._lock:
                me = threading.current_thread()
                if me in self._renewers:
                    self._renewers.remove(me)

    def _open_next(self) -> None:
        backoff = RenewBackoff(self._rng)
        while not self.closing.is_set():
            try:
                new_id, opened_at = self._opener(self.clock.now() + self.request_timeout,
                                                 self.closing)
            except Closed:
                return
            except HoldfastError as e:
                with self._lock:
                    self._lost_cause = "%s; the last try to open another: %s" % (
                        self._lost_cause.split("; the last try")[0], e)
                self.clock.wait(self.closing, backoff.next_delay())
                continue
            if not self.start(new_id, opened_at, renewed=True):
                return  # closed meanwhile (the new session expires at its TTL)
            log.warning("holdfast: session %s opened", new_id)
            self._rejoin()
            return

    # ---------------------------------------------------------------- group membership

    def joined(self, prefix: str, member: str, value: bytes) -> None:
        """Group member ``member`` of the group ``prefix`` was joined with ``value``: joined again
        after a lost session."""
        with self._lock:
            self._joined[(prefix, member)] = value

    def left(self, prefix: str, member: str) -> None:
        with self._lock:
            self._joined.pop((prefix, member), None)

    def on_rejoin_failed(self, prefix: str, callback: Callable[[str, Optional[str]], Any]) -> None:
        with self._lock:
            self._rejoin_listeners.setdefault(prefix, []).append(callback)

    def _rejoin(self) -> None:
        """Joins the group members this client had joined (and not left) again under the session
        just opened. Tried once, a service gone again right after the new session opened (a
        leader election right after an outage) kept a member out of its group for the whole
        session: so a join that fails for any reason but another session holding the name (the
        service unreachable again, this session lost too, a refusal that may pass) is tried again
        after a pause of its member's own (:class:`RejoinBackoff`), until it is written, another
        session holds the name (the member is dropped and :meth:`on_rejoin_failed` told), the
        member left, the client closed, or a newer session began its own round (which joins every
        member itself). Each try takes the member's latest value: a join since may have changed it.

        It runs on the thread that opened the session, which close() joins: its pauses wait on
        ``closing`` (on the client's clock), and its calls stop at it, so close() ends it at once.
        The members are tried one after the other, as one thread can: a failure of one only
        schedules its own next try, and the others are tried meanwhile."""
        with self._lock:
            self._rejoin_round += 1
            this_round = self._rejoin_round
            members = list(self._joined)
        keys = Keys(self)
        now = self.clock.now()
        # each member still to join: when its next try is due, and its pauses
        pending: Dict[Tuple[str, str], Tuple[float, RejoinBackoff]] = {
            m: (now, RejoinBackoff()) for m in members}
        while pending:
            for m in sorted(pending, key=lambda m: pending[m][0]):
                due, backoff = pending[m]
                if due > self.clock.now():
                    break
                with self._lock:
                    if self.closing.is_set() or self._rejoin_round != this_round:
                        return
                    value = self._joined.get(m)
                if value is None:
                    del pending[m]  # left meanwhile: not joined again
                    continue
                prefix, member = m
                try:
                    Group(keys, prefix).join(member, value)
                except Closed:
                    return
                except Conflict as e:
                    del pending[m]
                    self._rejoin_refused(prefix, member, e)
                    continue
                except Exception as e:  # anything else may pass: tried again
                    delay = backoff.next_delay()
                    pending[m] = (self.clock.now() + delay, backoff)
                    # Said once per member, not at every try of a long outage; its end is said too.
                    if backoff.given == 1:
                        log.warning("holdfast: joining %s again: %s; trying again",
                                    prefix + member, e, exc_info=not isinstance(e, HoldfastError))
                    else:
                        log.debug("holdfast: joining %s again (try %d): %s", prefix + member,
                                  backoff.given, e)
                    continue
                del pending[m]
                if backoff.given:
                    log.warning("holdfast: joined %s again at try %d", prefix + member,
                                backoff.given + 1)
            if pending:
                next_due = min(due for due, _ in pending.values())
                if self.clock.wait(self.closing, max(0.0, next_due - self.clock.now())):
                    return

    def _rejoin_refused(self, prefix: str, member: str, e: Conflict) -> None:
        """Another live session holds the name: it is not taken over, nor tried again."""
        with self._lock:
            self._joined.pop((prefix, member), None)
            callbacks = list(self._rejoin_listeners.get(prefix, []))
        log.warning("holdfast: joining %s again: %s", prefix + member, e)
        for callback in callbacks:
            self.dispatch(callback, member, e.holder)

    # ---------------------------------------------------------------- close

    def _join_renewer(self) -> None:
        """Waits for the threads opening the next session or joining its members again, if any,
        to end (their tries were aborted and they see ``closing``); not for the one close() is
        called from itself."""
        with self._lock:
            renewers = list(self._renewers)
        for renewer in renewers:
            if renewer is not threading.current_thread():
                renewer.join(self.request_timeout)

    def close(self) -> None:
        """Stops the background loops, closes the session (its grants are released) and marks the
        leases released (no loss callbacks). Idempotent; never raises for an unreachable cluster
        (the session then expires after its TTL)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            gen = self._gen
            self._gen = None
            leases = list(gen.leases.values()) if gen is not None else []
            if gen is not None:
                gen.leases.clear()
            self._changed.notify_all()
        self.closing.set()
        if gen is not None:
            gen.stopped.set()
        self.transport.abort_all()
        self._join_renewer()
        if gen is not None:
            n = gen.ledger.begin()
            body = gen.ledger.stamp(n, {})
            try:
                a = self.transport.call(
                    "DELETE", "/api/v1/sessions/" + urllib.parse.quote(gen.id, safe=""),
                    body, http_timeout=self.request_timeout,
                    deadline=self.clock.now() + 2 * self.request_timeout)
                if not a.ok and a.status not in (404, 410):
                    log.warning("holdfast: closing session %s: %s", gen.id,
                                error_for(a.status, a.body, a.member))
            except HoldfastError as e:
                log.warning("holdfast: closing session %s: %s", gen.id, e)
        for lease in leases:
            lease._mark_released()
        self.transport.abort_all()
        self._dispatcher.stop(1.0)
