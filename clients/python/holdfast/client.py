"""The Holdfast client: one session with the cluster, its locks, registers and fence checks."""

import base64
import logging
import os
import socket
import ssl
import threading
import urllib.parse
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from . import _validate as v
from ._clock import SYSTEM
from ._dispatch import Dispatcher
from ._session import ACQUIRE_GRACE  # noqa: F401 (defined with the acquires it bounds)
from ._session import Session, open_session
from ._threads import daemon_threads
from ._transport import CALLS, Transport
from .errors import HoldfastError, LockTimeout
from .election import Election
from .keys import Keys
from .lease import Lease, LeaseSet
from .watch import Watch, await_free

log = logging.getLogger("holdfast")


class LockContext:
    """What :meth:`Client.lock` and :meth:`Client.semaphore` return: acquires on ``__enter__``
    (returning the :class:`Lease`), releases on ``__exit__``. ``acquire()`` does it by hand."""

    def __init__(self, acquire: Callable[[], Lease]) -> None:
        self._acquire = acquire
        self.lease: Optional[Lease] = None

    def acquire(self) -> Lease:
        self.lease = self._acquire()
        return self.lease

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        lease, self.lease = self.lease, None
        if lease is None:
            return
        try:
            lease.release()
        except HoldfastError:
            if exc_type is None:
                raise
            log.warning("holdfast: releasing %s after an error failed", lease.name, exc_info=True)


class Register:
    """A small versioned value (at most 64 KiB), written with compare-and-set."""

    def __init__(self, client: "Client", key: str) -> None:
        v.check_name(key, "key")
        self._client = client
        self.key = key

    def get(self) -> Tuple[int, Optional[bytes]]:
        """``(version, value)``; ``(0, None)`` when the register was never written."""
        return self._client._register_get(self.key)

    def compare_and_set(self, expected_version: int, value: Any, fence: Optional[Lease] = None) -> int:
        """Writes ``value`` (bytes, or str as UTF-8) if the version is ``expected_version`` (0: absent).

        With ``fence``, the write happens only while that lease is a current grant of this session.
        Returns the new version; raises :class:`~holdfast.errors.Conflict` (``current_version``).
        """
        return self._client._register_set(self.key, expected_version, value, fence)

    def __repr__(self) -> str:
        return "Register(%r)" % self.key


class Client:
    """A session with a Holdfast cluster, over the members' HTTP ports.

    ``Client(["http://10.0.0.1:4655", ...])`` opens the session at once, at its home member, and
    keeps it alive in a daemon thread; a second daemon thread long-polls the session's events so
    that losses reach the leases' callbacks (run on a third thread). Use it as a context manager,
    or call :meth:`close`.

    Options: ``ttl`` (session TTL, seconds, default 10), ``client_name`` (shown to operators),
    ``request_timeout`` (seconds, default 5), ``token`` (sent as ``Authorization: Bearer``),
    ``lock_delay`` (seconds the locks of an expired session stay ungrantable), ``ssl_context``,
    ``calls``: which member the client sends to, its *home*: ``"home"`` (the default) picks one at
    random among ``members``, so that a fleet spreads over them; ``"first"`` takes the first one
    listed (a member near the client). Every member serves a session (a follower forwards writes
    to the leader); the home moves only when it fails the client, to another member picked the
    same way (``"first"``: the next one listed after the one that failed).
    ``rng`` is for tests: a ``random.Random`` (anything with ``randrange(n)``) that picks the
    homes: the first, and each one after a home failed.
    ``clock`` is for tests: the one clock every deadline, pause and renewal of this client is read
    and waited on (``now()``, ``wait(event, timeout)``, ``sleep(seconds)``; see
    :mod:`holdfast._clock`); by default ``time.monotonic`` and real waits. ``threads`` is the one
    thread factory every background thread of this client is made by (``threads(target, name)``
    returns a thread not yet started; see :mod:`holdfast._threads`); by default daemon
    ``threading.Thread`` objects.

    A client outlives its sessions (docs/adr/0004-clients-outlive-their-session.md): when the
    session is lost (no heartbeat acknowledged for a TTL, ``SESSION_EXPIRED``, ended by an
    operator), every lease of it is lost (its ``on_lost`` callbacks told) and never taken again by
    the library, and the client opens a new session (a new :attr:`session_id`) with backoff (from
    100 ms, doubling, at most 2 s, full jitter) until one opens or the client is closed. Between
    the two, a call that needs a session (an acquire, a write, a join, a campaign) waits for the
    next within its own timeout, then raises :class:`~holdfast.errors.Unavailable` ("no session:
    the last was lost (CAUSE); opening a new one"); what was in flight fails as before. Reads and
    watches need no session and go on. Listeners (:meth:`on_session`) are told ``lost`` then
    ``reestablished``; the group members joined (and not left) are joined again with their last
    value, each tried again (from 100 ms, doubling, at most 1 s) until it is written, another
    session holds the name, it leaves, the client closes or a newer session joins it.
    ``renew_sessions=False`` opts out: the client then ends with its session (:attr:`expired`), as
    the command line's long-running commands need.
    """

    def __init__(self, members: Iterable[str], *, ttl: float = 10.0, client_name: Optional[str] = None,
                 request_timeout: float = 5.0, token: Optional[str] = None, lock_delay: float = 0.0,
                 ssl_context: Optional[ssl.SSLContext] = None, clock: Any = None,
                 threads: Any = None, calls: str = "home", rng: Any = None,
                 renew_sessions: bool = True) -> None:
        if isinstance(members, str):
            members = [m for m in members.split(",") if m.strip()]
        members = list(members)
        v.check(bool(members), "at least one member address is needed")
        v.check(ttl >= 1.0, "ttl must be at least 1 s, not %r" % (ttl,))
        v.check(request_timeout > 0, "request_timeout must be positive, not %r" % (request_timeout,))
        v.check(lock_delay >= 0, "lock_delay must not be negative, not %r" % (lock_delay,))
        v.check(calls in CALLS, "calls is home or first, not %r" % (calls,))
        try:
            self._transport = Transport(members, request_timeout, token, ssl_context,
                                        clock=clock if clock is not None else SYSTEM,
                                        threads=threads if threads is not None else daemon_threads,
                                        calls=calls, rng=rng)
        except ValueError as e:
            raise v.invalid(str(e))
        self.ttl = float(ttl)
        self.request_timeout = float(request_timeout)
        self.client_name = client_name or "python@%s:%d" % (socket.gethostname(), os.getpid())
        dispatcher = Dispatcher(self._transport.threads)
        closing = threading.Event()  # close() called: user calls stop retrying
        ttl_ms, delay_ms = int(ttl * 1000), int(lock_delay * 1000)

        def opener(deadline: float, stop: threading.Event) -> Tuple[str, float]:
            return open_session(self._transport, self.client_name, ttl_ms, delay_ms, deadline, stop)

        try:
            session_id, opened_at = opener(self._transport.clock.now() + 3 * self.request_timeout,
                                           closing)
        except BaseException:
            dispatcher.stop(0)
            raise
        self._session = Session(self._transport, self.request_timeout, dispatcher, closing,
                                ttl=self.ttl, opener=opener, renew=bool(renew_sessions))
        self._session.start(session_id, opened_at)

    # ---------------------------------------------------------------- state

    @property
    def members(self) -> List[str]:
        return list(self._transport.members)

    @property
    def session_id(self) -> str:
        """The current session's id; it changes each time a lost session is followed by a new
        one (the lost one's until the next is open)."""
        return self._session.id

    @property
    def expired(self) -> bool:
        """True once the client ended with its session (only with ``renew_sessions=False``:
        every lease it held is lost, and every later call raises SessionExpired)."""
        return self._session.expired

    @property
    def renewing(self) -> bool:
        """True while the session is lost and the next not open yet."""
        return self._session.in_gap

    def on_session(self, listener: Any) -> Any:
        """Adds a session listener (a :class:`~holdfast._session.SessionListener`, or any object
        with either method): ``listener.lost(old_id, cause)`` when the session is lost
        (``cause``: a :class:`~holdfast.errors.SessionExpired` naming why), then
        ``listener.reestablished(new_id)`` once the next is open, in that order, on the client's
        callback thread. Returns ``listener``."""
        self._session.add_listener(listener)
        return listener

    @property
    def closed(self) -> bool:
        return self._session.closed

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "Client(session=%s, members=%r)" % (self.session_id, self.members)

    # ---------------------------------------------------------------- locks

    def acquire(self, name: str, *, wait: float = 0.0, lease_timeout: Optional[float] = None,
                shared: bool = False, mode: Optional[str] = None, permits: int = 1,
                max_permits: Optional[int] = None, owner: int = 0) -> Lease:
        """Takes a lock and returns its :class:`Lease`.

        ``wait``: seconds to queue (FIFO) when it is not free; 0 tries once. ``lease_timeout``:
        seconds after which a grant that is not renewed is taken back (the library renews it every
        third of it while held). ``shared=True`` takes a read lock; ``mode="permits"`` with
        ``permits``/``max_permits`` takes semaphore permits (see :meth:`semaphore`).

        Raises LockTimeout (not granted in time), Deadlock, LockLost (granted and lost before the
        answer), InvalidArgument, SessionExpired, Unavailable (no member answered in time; the
        library then withdraws the wait in the background and releases a grant it finds).
        """
        mode = v.check_mode(mode, shared, max_permits)
        v.check_name(name)
        wait_ms = v.check_wait(wait)
        lease_ms = v.check_lease_timeout(lease_timeout)
        v.check_owner(owner)
        body: Dict[str, Any] = {"name": name, "mode": mode, "owner": owner, "waitMillis": wait_ms}
        if mode == "permits":
            v.check_permits(permits, max_permits)
            body["permits"] = permits
            body["maxPermits"] = max_permits
        if lease_ms:
            body["leaseMillis"] = lease_ms
        a, sent_at, gen = self._session.acquire_call("/api/v1/acquire", body, name, wait_ms)
        b = a.body if isinstance(a.body, dict) else {}
        if not b.get("granted") or b.get("token") is None:
            raise LockTimeout("holdfast: %s was not granted within %d ms" % (name, wait_ms))
        lease = Lease(self._session, str(b.get("name") or name), int(b["token"]), mode,
                      permits if mode == "permits" else 1,
                      lease_ms / 1000.0 if lease_ms else None, sent_at)
        self._session.adopt(lease, gen)
        return lease

    def lock(self, name: str, *, wait: float = 0.0, lease_timeout: Optional[float] = None,
             shared: bool = False, owner: int = 0) -> LockContext:
        """``with client.lock(name, wait=30) as lease:`` — acquires on enter, releases on exit."""
        return LockContext(lambda: self.acquire(name, wait=wait, lease_timeout=lease_timeout,
                                                shared=shared, owner=owner))

    def semaphore(self, name: str, max_permits: int, *, permits: int = 1, wait: float = 0.0,
                  lease_timeout: Optional[float] = None, owner: int = 0) -> LockContext:
        """``permits`` permits of the semaphore ``name`` of ``max_permits``; a context manager."""
        return LockContext(lambda: self.acquire(name, wait=wait, lease_timeout=lease_timeout,
                                                mode="permits", permits=permits,
                                                max_permits=max_permits, owner=owner))

    def acquire_all(self, names: Iterable[str], *, wait: float = 0.0,
                    lease_timeout: Optional[float] = None, shared: bool = False,
                    owner: int = 0) -> LeaseSet:
        """Takes every lock of ``names`` (1 to 64, no repeats), all or none, one token each."""
        if isinstance(names, str):
            raise v.invalid("names must be a list of lock names, not one string")
        names = list(names)
        v.check(1 <= len(names) <= 64, "acquire_all takes 1 to 64 names, not %d" % len(names))
        v.check(len(set(names)) == len(names), "acquire_all names must not repeat")
        for n in names:
            v.check_name(n)
        wait_ms = v.check_wait(wait)
        lease_ms = v.check_lease_timeout(lease_timeout)
        v.check_owner(owner)
        mode = "shared" if shared else "exclusive"
        body: Dict[str, Any] = {"names": names, "mode": mode, "owner": owner,
                                "waitMillis": wait_ms}
        if lease_ms:
            body["leaseMillis"] = lease_ms
        label = ", ".join(names)
        a, sent_at, gen = self._session.acquire_call("/api/v1/acquire-all", body, names[0],
                                                     wait_ms)
        b = a.body if isinstance(a.body, dict) else {}
        if not b.get("granted") or not isinstance(b.get("locks"), list):
            raise LockTimeout("holdfast: %s were not granted within %d ms" % (label, wait_ms))
        leases = [Lease(self._session, str(l["name"]), int(l["token"]), mode, 1,
                        lease_ms / 1000.0 if lease_ms else None, sent_at) for l in b["locks"]]
        for l in leases:
            self._session.adopt(l, gen)
        return LeaseSet(leases)

    def is_current(self, name: str, token: int) -> bool:
        """Whether ``token`` is still a current grant of lock ``name`` (linearizable, at any member)."""
        v.check_name(name)
        v.check(isinstance(token, int) and not isinstance(token, bool) and token >= 0,
                "token must be a non-negative integer, not %r" % (token,))
        return self._session.is_current(name, token)

    # ---------------------------------------------------------------- registers

    def register(self, key: str) -> Register:
        """The register ``key`` (a handle; nothing is sent until get or compare_and_set)."""
        return Register(self, key)

    def _register_get(self, key: str) -> Tuple[int, Optional[bytes]]:
        a = self._session.read("GET", "/api/v1/registers/" + urllib.parse.quote(key, safe="/"))
        if a.status == 404 and a.error_code() in (None, "NOT_FOUND"):
            return 0, None
        if not a.ok:
            self._session.raise_for(a)
        b = a.body if isinstance(a.body, dict) else {}
        version = int(b.get("version") or 0)
        raw = b.get("value")
        value = base64.b64decode(raw) if isinstance(raw, str) else None
        return version, (value if version else None)

    def _register_set(self, key: str, expected_version: int, value: Any,
                      fence: Optional[Lease]) -> int:
        v.check(isinstance(expected_version, int) and not isinstance(expected_version, bool)
                and expected_version >= 0,
                "expected_version must be a non-negative integer, not %r" % (expected_version,))
        if isinstance(value, str):
            value = value.encode("utf-8")
        v.check(isinstance(value, (bytes, bytearray, memoryview)),
                "a register value is bytes or str, not %s" % type(value).__name__)
        body: Dict[str, Any] = {"key": key, "expectedVersion": expected_version,
                                "value": base64.b64encode(bytes(value)).decode("ascii")}
        if fence is not None:
            body["fenceName"] = fence.name
            body["fenceToken"] = fence.fencing_token
        a = self._session.write("/api/v1/registers/set", body)
        if not a.ok:
            self._session.raise_for(a)
        return int(a.body.get("version")) if isinstance(a.body, dict) else 0

    @property
    def keys(self) -> Keys:
        """The keys (:class:`~holdfast.keys.Keys`): get, put, delete, add, list, scan, watch,
        commit a transaction, and group membership; writes go through this session."""
        return Keys(self._session)

    # ---------------------------------------------------------------- watches and elections

    def watch(self, lock: Optional[str] = None, *, prefix: Optional[str] = None,
              register: Optional[str] = None, keys: Optional[str] = None) -> Watch:
        """Follows a lock (``watch("jobs/a")``), every lock under a prefix (``prefix="jobs/"``,
        ``""`` for all), a register (``register="config/x"``) or every key under a prefix
        (``keys="services/web/"``; ``registerDeleted`` too): a :class:`~holdfast.watch.Watch`
        that yields the complete state first (``state``), then every change in the cluster's
        order, until closed. See :mod:`holdfast.watch` for what it guarantees."""
        return self._session.watch(lock, prefix=prefix, register=register, keys=keys)

    def await_free(self, name: str, timeout: float) -> bool:
        """Waits until nobody holds lock ``name`` (True), or ``timeout`` seconds pass (False),
        through a watch. No grant: the lock may be taken again at once."""
        self._session.check_open()
        return await_free(self._session, name, timeout)

    def election(self, name: str) -> Election:
        """The leader election of ``name`` (its lock and its register): campaign, leader."""
        return Election(self, self._session, name)

    # ---------------------------------------------------------------- close

    def close(self) -> None:
        """Stops the background threads, closes the session (its grants are released) and marks
        the leases released (no loss callbacks). Idempotent; never raises for an unreachable
        cluster (the session then expires after its TTL)."""
        self._session.close()
