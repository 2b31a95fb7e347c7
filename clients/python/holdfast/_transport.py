"""HTTP exchanges with the members, from a home member (protocol.md, "Members and the leader").

One :class:`Transport` per client. Its **home** is the member it sends to (every member serves a
session: a follower forwards writes and relays heartbeats to the leader). It is picked at random
among the members given, so that a fleet spreads over them (``calls="first"``: the first one
listed), and it moves only when it fails the client: to another member, picked as the first
home was (``calls="first"``: the next one listed after the failed one), after a broken
connection, a timeout, ``502``/``503``/``504``, so that the clients of a member that dies spread
over the others; to the leader that a ``503 NOT_LEADER`` names (a
member that does not serve the call, such as one of an older build). It does not move because a
call succeeded, or a leader changed, elsewhere. :meth:`Transport.call` sends a request to the home
and keeps re-sending *the same request* until a final answer comes back or the deadline passes:
it follows the ``leader`` named by ``NOT_LEADER`` (member ids are learnt from every address's
``GET /status``), or tries the member the home moved to, or the next address after it not tried yet
in this round. When every member has been tried, it goes round them
again after a pause: while members answer ``NOT_LEADER`` without a leader (an election), a
:class:`LeaderSearch` pause (20 ms doubling to 100 ms, for up to 3 s), otherwise a backoff of
50 ms doubling to 1 s; both with jitter. The transport carries the client's clock
(:mod:`holdfast._clock`): deadlines are read and pauses waited on it.
"""

import http.client
import json
import random
import socket
import ssl
import threading
import urllib.parse
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Set

from .errors import SessionExpired, Unavailable
from ._clock import SYSTEM
from ._threads import daemon_threads, shut_down
from ._durations import format_duration

RETRYABLE_STATUSES = (502, 503, 504)


class Answer(NamedTuple):
    """A final HTTP answer: status, parsed body (dict, text or None), the member's URL, and when
    the request that it answers was sent (the client's clock)."""

    status: int
    body: Any
    member: str
    sent_at: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error_code(self) -> Optional[str]:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return code if isinstance(code, str) else None
        return None

    def error_field(self, field: str) -> Any:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get(field)
        return None


class Closed(SessionExpired):
    """The client was closed: its session is gone (a :class:`SessionExpired`)."""

    code = "SESSION_EXPIRED"


def describe_network_error(e: BaseException, timeout: float) -> str:
    """A short, one-line reason for a failed exchange."""
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "no answer within %s" % format_duration(timeout)
    if isinstance(e, ConnectionResetError):
        return "connection reset"
    if isinstance(e, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(e, BrokenPipeError):
        return "connection broken"
    if isinstance(e, socket.gaierror):
        return "unknown host"
    text = " ".join(str(e).split()) or type(e).__name__
    return text


class Backoff:
    """50 ms doubling to 1 s, each delay drawn between half and all of it (jitter)."""

    def __init__(self, first: float = 0.05, cap: float = 1.0) -> None:
        self.first = first
        self.cap = cap
        self.current = first

    def next_delay(self) -> float:
        d = self.current
        self.current = min(self.cap, self.current * 2)
        return d / 2 + random.random() * d / 2

    def reset(self) -> None:
        self.current = self.first


#: how long one call goes round the members while they answer NOT_LEADER (seconds)
LEADER_SEARCH = 3.0


class LeaderSearch:
    """The pauses between one call's rounds of the members while they answer ``NOT_LEADER``
    without naming a leader: a leader is being elected, and the call should reach it within about
    100 ms of its election. 20 ms doubling to 100 ms, with jitter, for at most ``length`` seconds
    from the end of the first such round; then none (the ordinary :class:`Backoff` applies)."""

    def __init__(self, length: float = LEADER_SEARCH) -> None:
        self._pauses = Backoff(0.02, 0.1)
        self._length = length
        self._started: Optional[float] = None
        self._over = False

    def pause(self, now: float) -> Optional[float]:
        """The pause before the next round, after a round that ended at ``now`` (a
        value of the client's clock) in which a member answered ``NOT_LEADER``; None once the
        search would outlast its length."""
        if self._over:
            return None
        if self._started is None:
            self._started = now
        delay = self._pauses.next_delay()
        if now + delay - self._started > self._length:
            self._over = True
            return None
        return delay


def normalize_member(url: str) -> str:
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an HTTP base URL: %r" % url)
    return url.rstrip("/")


#: the values of the ``calls`` option: a home picked at random, or the first member listed
CALLS = ("home", "first")


class Transport:
    """Sends requests to the members, from its home; thread-safe. ``calls`` picks the homes:
    ``"home"`` (at random among the members, with ``rng.randrange`` when ``rng`` is given, a
    ``random.Random`` for tests) or ``"first"`` (the first member listed); a home that fails
    moves to another member picked the same way (:meth:`rotate`). ``clock`` is the client's one clock
    (:data:`holdfast._clock.SYSTEM` unless a test gives its own): every part of the client that
    has the transport reads time and waits through ``transport.clock``. ``threads`` is its one
    thread factory (:func:`holdfast._threads.daemon_threads` unless it is given its own): every
    thread of the client is made by ``transport.threads``."""

    def __init__(self, members: List[str], request_timeout: float, token: Optional[str] = None,
                 ssl_context: Optional[ssl.SSLContext] = None, clock: Any = SYSTEM,
                 threads: Any = daemon_threads, calls: str = "home", rng: Any = None) -> None:
        if not members:
            raise ValueError("at least one member address is needed")
        if calls not in CALLS:
            raise ValueError("calls is home or first, not %r" % (calls,))
        self.members = [normalize_member(m) for m in members]
        self.request_timeout = request_timeout
        self.clock = clock
        self.threads = threads
        self._token = token
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        #: picks a home among ``n`` candidates (``randrange(n)``): the first one, and each one after
        #: a home failed; called under ``_lock`` once the transport is in use
        self._pick: Callable[[int], int] = (lambda n: 0) if calls == "first" else (
            rng if rng is not None else random).randrange
        #: the member this client sends to (see the module's doc)
        self._home = self._pick(len(self.members))
        self._ids: Dict[str, int] = {}
        self._open: Set[http.client.HTTPConnection] = set()
        #: how many times abort_all ran: an exchange begun before one breaks itself off once connected
        self._aborts = 0

    # ---------------------------------------------------------------- single exchanges

    def exchange(self, index: int, method: str, path: str, body: Any, timeout: float,
                 on_open: Optional[Callable[[http.client.HTTPConnection], None]] = None) -> Answer:
        """One HTTP exchange with member ``index``; network errors are raised as ``OSError``.

        ``on_open(connection)`` is called once it has connected, before the request is sent, so
        that its caller can break it (a watch being closed); it may raise ``OSError`` to give up
        at once."""
        base = self.members[index]
        parts = urllib.parse.urlsplit(base)
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout, context=self._ssl_context)
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        headers = {"Accept": "application/json", "Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = "Bearer " + self._token
        with self._lock:
            self._open.add(conn)
            aborts = self._aborts
        try:
            conn.connect()
            with self._lock:
                if self._aborts != aborts:
                    # abort_all ran while this exchange had no socket to shut down yet
                    raise ConnectionAbortedError("the exchange was broken off: the client is closing")
            if on_open is not None:
                on_open(conn)
            sent_at = self.clock.now()
            conn.request(method, parts.path + path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
        except http.client.HTTPException as e:
            raise ConnectionError(describe_network_error(e, timeout)) from e
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()
        text = raw.decode("utf-8", "replace")
        parsed: Any
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = text
        return Answer(status, parsed, base, sent_at)

    def abort_all(self) -> None:
        """Breaks every exchange under way (used by close to stop the waits and the long poll),
        including one still connecting: it gives up as soon as it has connected."""
        with self._lock:
            self._aborts += 1
            conns = list(self._open)
        for c in conns:
            shut_down(c)

    # ---------------------------------------------------------------- the home

    def home(self) -> int:
        """The index of the home: the member this client sends to."""
        with self._lock:
            return self._home

    def _move_home(self, from_index: int, to_index: int) -> None:
        """Member ``from_index`` named ``to_index`` as the leader: if it is the home, the home
        moves there."""
        with self._lock:
            if self._home == from_index:
                self._home = to_index

    def rotate(self, from_index: int) -> int:
        """Member ``from_index`` failed a call: if it is the home, the home moves to another member,
        picked as the first home was among the others, counted on from the one after
        ``from_index`` (``(from_index + 1 + pick(n - 1)) % n``): at random, so that the clients of
        a member that dies spread over the others instead of all moving to its successor;
        ``calls="first"``: the next one listed (the first after the last), so that members that
        fail in turn walk the home down the list. Returns the home."""
        with self._lock:
            n = len(self.members)
            if self._home == from_index and n > 1:
                k = self._pick(n - 1)  # one of the others, counted on from the one after it
                self._home = (from_index + 1 + k) % n
            return self._home

    def learn_ids(self) -> None:
        """Asks every address's ``GET /status`` for its member id."""
        timeout = min(1.0, self.request_timeout)
        for i in range(len(self.members)):
            try:
                a = self.exchange(i, "GET", "/status", None, timeout)
            except OSError:
                continue
            if a.ok and isinstance(a.body, dict) and isinstance(a.body.get("id"), str):
                with self._lock:
                    self._ids[a.body["id"]] = i

    def index_of(self, member_id: str) -> Optional[int]:
        with self._lock:
            if member_id in self._ids:
                return self._ids[member_id]
        self.learn_ids()
        with self._lock:
            return self._ids.get(member_id)

    def call(self, method: str, path: str, body: Any = None, *, http_timeout: float,
             deadline: float, stop: Optional[threading.Event] = None) -> Answer:
        """Sends the request, first to the home, until a final answer (anything but a network
        error, 502/503/504).

        The same ``body`` is re-sent on every attempt: at once to the member a ``NOT_LEADER``
        names, or to the home if the home that failed moved to a member not tried in this round
        (see :meth:`rotate`), else to the next member not tried in it; after a pause once every
        member has been tried (see
        the module's doc). Raises :class:`Unavailable` naming the last cause when
        ``deadline`` (a time of :attr:`clock`) passes first, and :class:`Closed` when the
        client is closing (``stop`` or the transport's own flag).
        """
        backoff = Backoff()
        search = LeaderSearch()
        last_cause = None
        last_network = True
        index = self.home()
        tried: Set[int] = set()  # the members that could not serve the call in this round
        not_leader = False  # whether one of them answered NOT_LEADER
        while True:
            if stop is not None and stop.is_set():
                raise Closed("holdfast: the client is closed")
            remaining = deadline - self.clock.now()
            if remaining <= 0 and last_cause is not None:
                if last_network:
                    raise Unavailable("holdfast: cannot reach any member (%s)" % last_cause)
                raise Unavailable("holdfast: no member answered in time (%s)" % last_cause)
            timeout = max(0.05, min(http_timeout, remaining))
            try:
                a = self.exchange(index, method, path, body, timeout)
            except OSError as e:
                last_cause = "%s: %s" % (self.members[index], describe_network_error(e, timeout))
                last_network = True
            else:
                if a.status not in RETRYABLE_STATUSES:
                    return a
                code = a.error_code() or "HTTP %d" % a.status
                msg = a.error_field("message")
                last_cause = "%s: %s%s" % (self.members[index], code,
                                           (" " + " ".join(str(msg).split())) if msg else "")
                last_network = False
                if a.status == 503 and code == "NOT_LEADER":
                    not_leader = True
                    hint = a.error_field("leader")
                    target = self.index_of(hint) if isinstance(hint, str) and hint else None
                    if target is not None and target != index and target not in tried:
                        tried.add(index)
                        self._move_home(index, target)
                        index = target
                        continue
            tried.add(index)
            index = self.rotate(index)
            if len(tried) < len(self.members):
                while index in tried:
                    index = (index + 1) % len(self.members)
                continue
            # every member has been tried: the next round, after a pause
            delay = search.pause(self.clock.now()) if not_leader else None
            self._pause(backoff.next_delay() if delay is None else delay, deadline, stop)
            tried.clear()
            not_leader = False
            index = self.home()

    def _pause(self, delay: float, deadline: float, stop: Optional[threading.Event]) -> None:
        delay = min(delay, max(0.0, deadline - self.clock.now()))
        if delay <= 0:
            return
        if stop is not None:
            self.clock.wait(stop, delay)
        else:
            self.clock.sleep(delay)
