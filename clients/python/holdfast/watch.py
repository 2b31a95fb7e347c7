"""Watches (protocol.md, "Watches"): follow a lock, the locks under a prefix, a register, or the
keys under a prefix.

A :class:`Watch` long-polls ``GET /api/v1/watch`` on a daemon thread of its own, at the client's
home member (any member serves it), resuming from the position of the last change
it received and moving on to another member with backoff when one fails, like the session's
event stream. It yields a ``state`` event first (the complete state, from the answer to a poll
that has no position or whose changes the member no longer has), then one event per change, in
the order the cluster made them; after such a gap, a fresh ``state`` again.

Guaranteed: positions are the same at every member, so a watch that moves to another member
(a broken connection, the leader's death) is told every change it had not been told, none twice,
or, where that member cannot, a ``state`` that replaces everything known before. Not guaranteed:
that a change is told once only across a gap (the state may already show a change told again
after it), nor anything about names the caller may not read (left out of a prefix watch). A watch
is no lock: :func:`await_free` returning True means nobody held the lock at that moment.
"""

import base64
import logging
import queue
import threading
import urllib.parse
from typing import TYPE_CHECKING, Any, Iterator, List, NamedTuple, Optional

from . import _validate as v
from ._longpoll import LongPoll
from ._threads import shut_down, start
from ._transport import Answer, Closed
from .errors import HoldfastError, SessionExpired, Unavailable, error_for
from .keys import MAX_PAGE, KeyEntry, entry
from ._durations import format_duration

if TYPE_CHECKING:  # pragma: no cover
    from ._session import Session

log = logging.getLogger("holdfast")

WATCH_WAIT_MILLIS = 20000
#: Events a watch reads ahead of its reader before its long poll waits for the reader.
READ_AHEAD = 10000
#: The most keys a keys ``state`` holds, as the Java client's (the server's own limit of one state).
MAX_STATE_KEYS = 10000

#: Event types: the complete state, then one per change (the protocol's names).
STATE = "state"
ACQUIRED = "acquired"
RELEASED = "released"
QUEUED = "queued"
WAIT_ENDED = "waitEnded"
REGISTER_SET = "registerSet"
REGISTER_DELETED = "registerDeleted"
TYPES = (STATE, ACQUIRED, RELEASED, QUEUED, WAIT_ENDED, REGISTER_SET, REGISTER_DELETED)


class Holder(NamedTuple):
    session_id: str
    token: int
    mode: str
    permits: int
    client_name: Optional[str]


class Waiter(NamedTuple):
    session_id: str
    mode: str
    permits: int
    client_name: Optional[str]


class LockInfo(NamedTuple):
    """A lock that is held or waited for, as a lock watch's ``state`` lists it."""

    name: str
    holders: List[Holder]
    waiters: List[Waiter]
    semaphore: bool
    max_permits: int


class WatchEvent:
    """One event of a watch.

    ``type``: ``state``, ``acquired``, ``released``, ``queued``, ``waitEnded``, ``registerSet``,
    ``registerDeleted``.
    ``name``: the lock or register (for ``state``, what is watched). ``token``: the grant's
    fencing token (``acquired``, ``released``; else 0). ``cause``: why a holder left or a wait
    ended, or a key was deleted (``released``, ``leaseTimeout``, ``sessionExpired``,
    ``sessionClosed``, ``revoked``, ``timedOut``, ``cancelled``; None for a key a client deleted).
    ``version``/``value`` (bytes or None): a register's, after a write or in its ``state``
    (version 0: never written); for ``registerDeleted`` the version it had. ``locks``: a lock
    watch's ``state``; ``keys``: a keys watch's ``state`` (:class:`~holdfast.keys.KeyEntry`).
    ``position``: where the event stands in the cluster's order of changes.
    """

    __slots__ = ("type", "name", "session_id", "token", "mode", "cause", "version", "value",
                 "locks", "position", "keys")

    def __init__(self, type: str, name: str, session_id: Optional[str] = None, token: int = 0,
                 mode: Optional[str] = None, cause: Optional[str] = None, version: int = 0,
                 value: Optional[bytes] = None, locks: Optional[List[LockInfo]] = None,
                 position: str = "", keys: Optional[List[KeyEntry]] = None) -> None:
        self.type = type
        self.name = name
        self.session_id = session_id
        self.token = token
        self.mode = mode
        self.cause = cause
        self.version = version
        self.value = value
        self.locks = locks if locks is not None else []
        self.position = position
        self.keys = keys if keys is not None else []

    @property
    def holders(self) -> List[int]:
        """For a lock ``state``: the tokens of every holder of the watched locks."""
        return [h.token for l in self.locks for h in l.holders]

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, WatchEvent) and all(
            getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self) -> str:
        parts = [self.type, self.name]
        if self.session_id:
            parts.append("session=%s" % self.session_id)
        if self.token:
            parts.append("token=%d" % self.token)
        if self.cause:
            parts.append("cause=%s" % self.cause)
        if self.type in (REGISTER_SET, REGISTER_DELETED) or (self.type == STATE and self.version):
            parts.append("version=%d" % self.version)
        if self.type == STATE and self.locks:
            parts.append("holders=%r" % self.holders)
        return "WatchEvent(%s at %s)" % (" ".join(parts), self.position or "-")


class WatchPage(NamedTuple):
    """One answer of the watch route: its events (a ``state`` first after a gap) and where to go on."""

    events: List[WatchEvent]
    next: Optional[str]
    gap: bool
    #: a keys ``state`` the server cut to fit a frame: the rest is listed after its last key
    more: bool = False


def _int(x: Any) -> int:
    return int(x) if x is not None else 0


def _bytes(raw: Any) -> Optional[bytes]:
    return base64.b64decode(raw) if isinstance(raw, str) else None


def _lock_info(l: Any) -> LockInfo:
    holders = [Holder(str(h.get("sessionId")), _int(h.get("token")), str(h.get("mode")),
                      _int(h.get("permits")), h.get("clientName"))
               for h in l.get("holders") or [] if isinstance(h, dict)]
    waiters = [Waiter(str(w.get("sessionId")), str(w.get("mode")), _int(w.get("permits")),
                      w.get("clientName"))
               for w in l.get("waiters") or [] if isinstance(w, dict)]
    return LockInfo(str(l.get("name")), holders, waiters, bool(l.get("semaphore")),
                    _int(l.get("maxPermits")))


def parse_watch_page(body: Any) -> WatchPage:
    """Reads a 200 answer of ``GET /api/v1/watch``. Unknown event types are left out."""
    if not isinstance(body, dict):
        raise ValueError("the watch answered something that is not a JSON object")
    nxt = body.get("next")
    nxt = str(nxt) if nxt is not None else None
    events: List[WatchEvent] = []
    gap = bool(body.get("gap"))
    if gap:
        name = str(body.get("name") or "")
        reg = body.get("register")
        if isinstance(body.get("keys"), list):
            events.append(WatchEvent(STATE, name, position=nxt or "",
                                     keys=[entry(k) for k in body["keys"] if isinstance(k, dict)]))
        elif isinstance(reg, dict):
            version = _int(reg.get("version"))
            events.append(WatchEvent(STATE, name, version=version,
                                     value=_bytes(reg.get("value")) if version else None,
                                     position=nxt or ""))
        else:
            locks = [_lock_info(l) for l in body.get("locks") or [] if isinstance(l, dict)]
            events.append(WatchEvent(STATE, name, locks=locks, position=nxt or ""))
    for e in body.get("events") or []:
        if not isinstance(e, dict) or e.get("type") not in TYPES or e.get("type") == STATE:
            continue
        events.append(WatchEvent(e["type"], str(e.get("name")), session_id=e.get("sessionId"),
                                 token=_int(e.get("token")), mode=e.get("mode"),
                                 cause=e.get("cause"), version=_int(e.get("version")),
                                 value=_bytes(e.get("value")),
                                 position=str(e.get("position") or "")))
    return WatchPage(events, nxt, gap, gap and bool(body.get("more")))


def target_query(lock: Optional[str], prefix: Optional[str], register: Optional[str],
                 keys: Optional[str] = None):
    """The one target given, as (kind, name); InvalidArgument unless exactly one is."""
    given = [(k, n) for k, n in (("lock", lock), ("prefix", prefix), ("register", register),
                                 ("keys", keys)) if n is not None]
    v.check(len(given) == 1, "a watch takes exactly one of lock, prefix, register or keys")
    kind, name = given[0]
    if kind in ("prefix", "keys"):
        v.check(isinstance(name, str), "a prefix is a string, not %s" % type(name).__name__)
    else:
        v.check_name(name, "lock name" if kind == "lock" else "key")
    return kind, name


class _End:
    def __init__(self, error: Optional[HoldfastError]) -> None:
        self.error = error


class Watch:
    """What :meth:`Client.watch` returns: an iterator of :class:`WatchEvent`, until closed.

    ``for event in watch:`` blocks for each event; it stops once :meth:`close` is called and
    raises the error that ended the watch otherwise (``PermissionDenied`` for a name the caller
    may not read, ``InvalidArgument``, ``Closed``/``SessionExpired`` when the client ended).
    :meth:`next_event` waits at most a timeout. A context manager: ``with client.watch(...) as w``.
    The watch reads ahead of its reader up to 10,000 events, then waits for it. Made with the
    client's :class:`~holdfast._session.Session` (the internal interface: its transport, and
    whether it is closed or expired), not with the client.
    """

    def __init__(self, session: "Session", kind: str, name: str,
                 wait_millis: int = WATCH_WAIT_MILLIS) -> None:
        self.kind = kind
        self.name = name
        self._session = session
        self._transport = session.transport
        self._wait_millis = wait_millis
        self._stop = threading.Event()
        self._queue: "queue.Queue[Any]" = queue.Queue()
        self._room = threading.Semaphore(READ_AHEAD)  # events the reader may be behind
        self._lock = threading.Lock()
        self._conn: Any = None
        self._end: Optional[_End] = None
        #: the position of the last event handed out; "" before the first
        self.position = ""
        #: what ended the watch while it completed a state (a refused listing)
        self._refusal: Optional[HoldfastError] = None
        self._thread = start(self._transport.threads, self._run,
                             "holdfast-watch-%s" % (name or "*"))

    @property
    def closed(self) -> bool:
        """True once closed, or ended (its error is then raised by the iteration)."""
        return self._stop.is_set() or self._end is not None

    def close(self) -> None:
        """Stops the watch: iteration ends; the long poll under way is broken. Idempotent."""
        self._stop.set()
        with self._lock:
            conn = self._conn
        shut_down(conn)
        self._queue.put(_End(None))  # wakes a reader blocked on an empty queue

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __iter__(self) -> Iterator[WatchEvent]:
        return self

    def __next__(self) -> WatchEvent:
        event = self.next_event(None)
        if event is None:
            raise StopIteration
        return event

    def next_event(self, timeout: Optional[float] = None) -> Optional[WatchEvent]:
        """The next event; None after ``timeout`` seconds without one, or once closed. Raises
        the error that ended the watch."""
        while True:
            if self._end is not None:
                if self._end.error is not None:
                    raise self._end.error
                return None
            if self._stop.is_set():
                return None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                return None
            if isinstance(item, _End):
                if item.error is not None or not self._stop.is_set():
                    self._end = item
                continue
            self._room.release()
            self.position = item.position
            return item

    def __repr__(self) -> str:
        return "Watch(%s=%r, %s)" % (self.kind, self.name, "closed" if self.closed else "open")

    # ---------------------------------------------------------------- the long poll

    def _path(self, after: Optional[str]) -> str:
        q = {self.kind: self.name, "waitMillis": str(self._wait_millis)}
        if self.kind == "keys":
            q["pages"] = "true"  # a larger state comes cut, with "more": _rest_of_state
        if after is not None:
            q["after"] = after
        return "/api/v1/watch?" + urllib.parse.urlencode(q, quote_via=urllib.parse.quote)

    def _opened(self, conn: Any) -> None:
        with self._lock:
            self._conn = conn
        if self._stop.is_set():
            raise ConnectionAbortedError("the watch is closed")
        if self._session.closed:
            # close() marks the client closed before it breaks the exchanges under way
            raise ConnectionAbortedError("the watch's client is closed")

    def _ended_by_client(self) -> Optional[HoldfastError]:
        if self._session.closed:
            return Closed("holdfast: the watch of %s ended: its client was closed" % self.name)
        if self._session.expired:
            return SessionExpired("holdfast: the watch of %s ended: session %s expired"
                                  % (self.name, self._session.id))
        return None

    def _run(self) -> None:
        error: Optional[HoldfastError] = None
        try:
            error = self._poll()
        except Exception as e:  # never die silently
            log.exception("holdfast: the watch of %s failed", self.name)
            error = Unavailable("holdfast: the watch of %s failed: %s" % (self.name, e))
        finally:
            if not self._stop.is_set():
                self._queue.put(_End(error))

    def _poll(self) -> Optional[HoldfastError]:
        poll = LongPoll(self._transport, "watch of %s" % self.name, self._path, self._wait_millis,
                        self._stop, on_open=self._opened)
        return poll.run(parse_watch_page, self._take, self._final,
                        ended=lambda: self._refusal or self._ended_by_client())

    def _take(self, page: "WatchPage", _sent_at: float) -> bool:
        if page.more and page.events and page.events[0].type == STATE:
            try:
                if not self._rest_of_state(page.events[0]):
                    return False
            except HoldfastError as e:  # refused (a prefix the caller may not read), or ended
                self._refusal = e
                return False
        return all(self._put(event) for event in page.events)

    def _rest_of_state(self, state: WatchEvent) -> bool:
        """Completes a keys ``state`` the server cut to fit a frame (``"more": true``): lists the
        keys after its last one, a page at a time, up to MAX_STATE_KEYS, before the events from its
        position are told (which cover every change since: one may be told twice, none missed).
        A listing that fails for a while is asked again from where it stopped; False once the
        watch is closed."""
        after = state.keys[-1].key if state.keys else ""
        while len(state.keys) < MAX_STATE_KEYS:
            if self._stop.is_set() or self._ended_by_client() is not None:
                return False
            q = urllib.parse.urlencode(
                {"prefix": self.name, "after": after,
                 "limit": str(min(MAX_PAGE, MAX_STATE_KEYS - len(state.keys)))},
                quote_via=urllib.parse.quote)
            try:
                a = self._session.read("GET", "/api/v1/keys?" + q)
            except Unavailable as e:
                log.warning("holdfast: the state of the watch of %s: %s; listing again",
                            self.name, e)
                continue
            if not a.ok:
                self._session.raise_for(a)
            b = a.body if isinstance(a.body, dict) else {}
            listed = [entry(k) for k in b.get("keys") or [] if isinstance(k, dict)]
            state.keys.extend(listed)
            if not b.get("more") or not listed:
                break
            after = listed[-1].key
        return True

    @staticmethod
    def _final(a: Answer) -> Optional[HoldfastError]:
        """A refusal ends the watch (a bad name, or one the caller may not read)."""
        if 400 <= a.status < 500 and a.status not in (408, 429):
            return error_for(a.status, a.body, a.member)
        return None

    def _put(self, event: WatchEvent) -> bool:
        """Hands an event to the reader, waiting while it is READ_AHEAD events behind; False
        once the watch or its client is closed."""
        while not self._room.acquire(timeout=0.2):
            if self._stop.is_set() or self._ended_by_client() is not None:
                return False
        if self._stop.is_set():
            return False
        self._queue.put(event)
        return True


def await_free(session: "Session", name: str, timeout: float) -> bool:
    """Waits until nobody holds lock ``name``, at most ``timeout`` seconds of the session's
    clock; see :meth:`Client.await_free`."""
    v.check_name(name)
    v.check(isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout >= 0,
            "timeout is a non-negative number of seconds, not %r" % (timeout,))
    clock = session.clock
    deadline = clock.now() + timeout
    grace = 3 * session.request_timeout  # the state is needed once, even for a timeout of 0
    holders = set()
    stated = False
    with Watch(session, "lock", name) as watch:
        while True:
            limit = deadline if stated else deadline + grace
            event = watch.next_event(max(0.0, limit - clock.now()))
            if event is None:
                if not stated:
                    raise Unavailable("holdfast: could not read the state of %s within %s"
                                      % (name, format_duration(timeout + grace)))
                return False
            if event.type == STATE:
                holders = set(event.holders)
                stated = True
            elif event.type == ACQUIRED:
                holders.add(event.token)
            elif event.type == RELEASED:
                holders.discard(event.token)
            else:
                continue
            if stated and not holders:
                return True
