"""Leader election (docs/elections.md), composed from locks and registers like the Java client's.

Who leads is the holder of the lock of the election's name; what the leader proclaims is the
register of the same name, holding ``"<epoch>:<value>"`` (UTF-8), written by compare-and-set
fenced by the leadership's grant. The epoch is the grant's fencing token.

Guaranteed: at most one valid leadership of a name at a time (the lock's guarantee); every new
leadership has a higher epoch than the ones before; a deposed leader's fenced writes are refused
(fence with ``leadership.lease``). Not guaranteed: that a leader learns of its loss before the next
one is elected (a process paused past its session TTL acts on until it runs again): fence the
writes that matter.

A failure it handles: a candidate is elected but its proclamation fails (the cluster is
unreachable, or its grant is revoked meanwhile); the campaign then releases the lock, so that no
silent leader is left behind, and raises.
"""

import logging
import queue
import threading
import urllib.parse
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Tuple

from . import _validate as v
from ._threads import start
from .errors import HoldfastError, SessionExpired, Unavailable
from .lease import Lease

if TYPE_CHECKING:  # pragma: no cover
    from ._session import Session
    from .client import Client

log = logging.getLogger("holdfast")

#: The most bytes of UTF-8 a leader may proclaim (a register holds 64 KiB; the epoch goes first).
MAX_VALUE_BYTES = 32 * 1024


class Leader(NamedTuple):
    """Who leads an election: the epoch of the leadership and what it proclaimed (None for a
    leader elected a moment ago that has not written its value yet)."""

    election: str
    epoch: int
    value: Optional[str]


#: The largest epoch: a fencing token is a signed 64-bit number.
MAX_EPOCH = 2 ** 63 - 1


def proclaimed(raw: Optional[bytes]) -> Optional[Tuple[int, str]]:
    """Reads an election record, ``"<epoch>:<value>"`` (docs/protocol.md): the epoch in ASCII
    digits, at most 2^63 - 1; the value everything after the first colon. None if the bytes are
    not one (clients/vectors/records.json lists the cases)."""
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
    epoch, colon, value = text.partition(":")
    if not colon or not (epoch.isascii() and epoch.isdigit()) or int(epoch) > MAX_EPOCH:
        return None
    return int(epoch), value


class Leadership:
    """A won campaign: ``epoch`` (the grant's fencing token), ``value``, ``lease`` (to fence
    writes with), ``valid``, :meth:`on_lost`, :meth:`resign`. A context manager that resigns."""

    def __init__(self, election: str, value: str, lease: Lease) -> None:
        self.election = election
        self.value = value
        self.lease = lease

    @property
    def epoch(self) -> int:
        return self.lease.fencing_token

    @property
    def valid(self) -> bool:
        """True until resigned or lost (session expired, revoked: see :meth:`on_lost`)."""
        return self.lease.valid

    def on_lost(self, callback: Callable[["Leadership", str], Any]) -> "Leadership":
        """Calls ``callback(leadership, reason)`` once if the leadership is lost (not when it
        resigns); at once if it already is. Reasons are the lease's."""
        self.lease.on_lost(lambda _lease, reason: callback(self, reason))
        return self

    def resign(self) -> None:
        """Gives the leadership up (releases the lock): the next candidate leads. Idempotent."""
        self.lease.release()

    def __enter__(self) -> "Leadership":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.resign()

    def __repr__(self) -> str:
        return "Leadership(%r, epoch=%d, %s)" % (self.election, self.epoch,
                                                 "valid" if self.valid else "over")


#: The observation ended (closed, or a watch ended without an error).
_OVER = object()
#: Nothing told yet.
_UNTOLD = object()


class Observation:
    """What :meth:`Election.observe` returns: an iterator of who leads (a :class:`Leader`, or None
    for nobody), as the Java client's ``Election.observe`` tells it: who leads now, then each
    change in epoch order (a new leader, its value None until it writes it, then again with it;
    None once it is gone). Epochs never go back.

    It merges two watches (:meth:`Client.watch`), of the election's lock and of its register, each
    followed by a thread of its own (made by ``threads``, the client's thread factory), and has
    their guarantees: no leadership is missed across a reconnection. Iteration stops once :meth:`close` is called and raises the error that ended a
    watch otherwise. A context manager."""

    def __init__(self, client: "Client", name: str, threads: Any) -> None:
        self.election = name
        self._queue: "queue.Queue[Any]" = queue.Queue()
        self._mutex = threading.Lock()
        self._epoch = 0  # 0: nobody leads
        self._lock_known = False
        self._proclaimed: Optional[Tuple[int, str]] = None
        self._told: Any = _UNTOLD
        self._closed = False
        self._watches = [client.watch(name)]
        try:
            self._watches.append(client.watch(register=name))
        except BaseException:
            self._watches[0].close()
            raise
        for watch, on_event in zip(self._watches, (self._lock_event, self._register_event)):
            start(threads, lambda w=watch, e=on_event: self._follow(w, e), "holdfast-observe-%s" % name)

    def __iter__(self) -> "Observation":
        return self

    def __next__(self) -> Optional[Leader]:
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        if item is _OVER:
            self._queue.put(_OVER)  # for the next call too
            raise StopIteration
        return item

    def close(self) -> None:
        """Stops the observation: iteration ends. Idempotent."""
        with self._mutex:
            self._closed = True
        for watch in self._watches:
            watch.close()
        self._queue.put(_OVER)

    def __enter__(self) -> "Observation":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _follow(self, watch: Any, on_event: Callable[[Any], None]) -> None:
        try:
            for event in watch:
                with self._mutex:
                    on_event(event)
            ended: Any = _OVER
        except HoldfastError as e:
            ended = e
        with self._mutex:
            closed = self._closed
        if not closed:
            self._queue.put(ended)
        for other in self._watches:
            other.close()

    def _lock_event(self, event: Any) -> None:
        if event.type == "state":
            tokens = [h.token for l in event.locks if l.name == self.election for h in l.holders]
            self._epoch = tokens[0] if tokens else 0
        elif event.type == "acquired":
            self._epoch = max(self._epoch, event.token)
        elif event.type == "released":
            self._epoch = 0 if event.token == self._epoch else self._epoch
        else:
            return
        self._lock_known = True
        self._tell()

    def _register_event(self, event: Any) -> None:
        found = proclaimed(event.value)
        if found is not None and (self._proclaimed is None or found[0] >= self._proclaimed[0]):
            self._proclaimed = found
            if self._lock_known:
                self._tell()

    def _tell(self) -> None:
        now = None
        if self._epoch:
            p = self._proclaimed
            now = Leader(self.election, self._epoch, p[1] if p and p[0] == self._epoch else None)
        told = self._told
        if told is not _UNTOLD and (now == told or (now and told and now.epoch < told.epoch)):
            return  # no change, or back in epochs
        self._told = now
        self._queue.put(now)


class Election:
    """The election of one name (:meth:`Client.election`); nothing is sent until used. Built on
    the client's public calls, and on its :class:`~holdfast._session.Session` (the internal
    interface) for the one read of who leads."""

    def __init__(self, client: "Client", session: "Session", name: str) -> None:
        v.check_name(name, "election name")
        self._client = client
        self._session = session
        self.name = name

    def campaign(self, value: str, *, wait: float = 0.0,
                 lease_timeout: Optional[float] = None) -> Leadership:
        """Campaigns until elected (``wait`` seconds at most; 0 tries once), then proclaims
        ``value``. Raises LockTimeout when not elected in time (the candidacy is withdrawn), and
        the errors of acquire and of a register write (the lock is then released)."""
        v.check(isinstance(value, str), "the value is a string (\"\" for none), not %s"
                % type(value).__name__)
        v.check(len(value.encode("utf-8")) <= MAX_VALUE_BYTES,
                "the value is over %d bytes of UTF-8" % MAX_VALUE_BYTES)
        lease = self._campaign(wait, lease_timeout)
        try:
            register = self._client.register(self.name)
            version, _ = register.get()
            register.compare_and_set(version, "%d:%s" % (lease.fencing_token, value), fence=lease)
        except BaseException:
            try:
                lease.release()  # not proclaimed: the candidacy ends here
            except HoldfastError as e:
                log.warning("holdfast: releasing %s after a failed proclamation: %s", self.name, e)
            raise
        return Leadership(self.name, value, lease)

    def _campaign(self, wait: float, lease_timeout: Optional[float]) -> Lease:
        """The acquire of the campaign. A campaign whose session is lost while it waits campaigns
        again under the next session, within what is left of ``wait`` (unless the client opted
        out of renewing sessions)."""
        s = self._session
        deadline = s.clock.now() + wait
        while True:
            before = s.id
            try:
                return self._client.acquire(self.name, wait=max(0.0, deadline - s.clock.now()),
                                            lease_timeout=lease_timeout)
            except (SessionExpired, Unavailable):
                if not s.renewing or s.closed or s.clock.now() >= deadline:
                    raise
                if not s.in_gap and s.id == before:
                    raise  # the acquire's own failure, not a lost session
                log.info("holdfast: campaign for %s: session lost; campaigning again", self.name)

    def leader(self) -> Optional[Leader]:
        """Who leads now, or None. Read at the leader in one request, ``GET
        /api/v1/elections/{name}``, whose value is None while the leader has not proclaimed it."""
        s = self._session
        a = s.read("GET", "/api/v1/elections/" + urllib.parse.quote(self.name, safe="/"))
        if a.status == 404:
            return None
        if not a.ok:
            s.raise_for(a)
        e = a.body.get("election") if isinstance(a.body, dict) else None
        if not isinstance(e, dict):
            raise Unavailable("the answer of GET /api/v1/elections/%s names no election"
                                     % self.name)
        return Leader(self.name, int(e["epoch"]), e.get("value"))

    def observe(self) -> Observation:
        """Follows who leads: see :class:`Observation`."""
        return Observation(self._client, self.name, self._session.threads)

    def __repr__(self) -> str:
        return "Election(%r)" % self.name
