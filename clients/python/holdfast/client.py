"""The Holdfast client: one session with the cluster, its locks, registers and fence checks."""

import base64
import logging
import os
import socket
import ssl
import threading
import time
import urllib.parse
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from . import _validate as v
from ._dispatch import Dispatcher
from ._events import EventPoller, PollResult, lost_in_gap
from ._ledger import Ledger
from ._session import Heartbeat, open_session
from ._transport import Answer, Closed, Transport
from .errors import HoldfastError, LockTimeout, SessionExpired, Unavailable, error_for
from .election import Election
from .keys import Keys
from .lease import Lease, LeaseSet
from .watch import Watch, await_free, target_query

log = logging.getLogger("holdfast")

#: Extra time an acquire keeps retrying beyond its wait and the request timeout.
ACQUIRE_GRACE = 5.0


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

    ``Client(["http://10.0.0.1:4655", ...])`` opens the session at once (at the leader, following
    it) and keeps it alive in a daemon thread; a second daemon thread long-polls the session's
    events so that losses reach the leases' callbacks (run on a third thread). Use it as a context
    manager, or call :meth:`close`.

    Options: ``ttl`` (session TTL, seconds, default 10), ``client_name`` (shown to operators),
    ``request_timeout`` (seconds, default 5), ``token`` (sent as ``Authorization: Bearer``),
    ``lock_delay`` (seconds the locks of an expired session stay ungrantable), ``ssl_context``.
    """

    def __init__(self, members: Iterable[str], *, ttl: float = 10.0, client_name: Optional[str] = None,
                 request_timeout: float = 5.0, token: Optional[str] = None, lock_delay: float = 0.0,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        if isinstance(members, str):
            members = [m for m in members.split(",") if m.strip()]
        members = list(members)
        v.check(bool(members), "at least one member address is needed")
        v.check(ttl >= 1.0, "ttl must be at least 1 s, not %r" % (ttl,))
        v.check(request_timeout > 0, "request_timeout must be positive, not %r" % (request_timeout,))
        v.check(lock_delay >= 0, "lock_delay must not be negative, not %r" % (lock_delay,))
        try:
            self._transport = Transport(members, request_timeout, token, ssl_context)
        except ValueError as e:
            raise v.invalid(str(e))
        self.ttl = float(ttl)
        self.request_timeout = float(request_timeout)
        self.client_name = client_name or "python@%s:%d" % (socket.gethostname(), os.getpid())
        self._ledger = Ledger()
        self._lock = threading.RLock()
        self._leases: Dict[Tuple[str, int], Lease] = {}
        self._early_losses: Dict[Tuple[str, int], str] = {}
        self._closing = threading.Event()  # close() called: user calls stop retrying
        self._stopped = threading.Event()  # background loops stop (closed or expired)
        self._expired = False
        self._closed = False
        self._dispatcher = Dispatcher()
        opened_at = time.monotonic()
        try:
            self.session_id = open_session(self._transport, self.client_name, int(ttl * 1000),
                                           int(lock_delay * 1000),
                                           opened_at + 3 * self.request_timeout, self._closing)
        except BaseException:
            self._dispatcher.stop(0)
            raise
        self._heartbeat = Heartbeat(self._transport, self.session_id, self.ttl, opened_at,
                                    self._stopped, lambda: self._expire("sessionExpired"))
        self._poller = EventPoller(self._transport, self.session_id, self._stopped,
                                   self._on_events, lambda: self._expire("sessionExpired"))
        self._heartbeat.start()
        self._poller.start()

    # ---------------------------------------------------------------- state

    @property
    def members(self) -> List[str]:
        return list(self._transport.members)

    @property
    def expired(self) -> bool:
        """True once the session is known to be gone (every lease it held is lost)."""
        return self._expired

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise Closed("holdfast: the client is closed")
        if self._expired:
            raise SessionExpired("holdfast: session %s expired" % self.session_id)

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
        body: Dict[str, Any] = {"session": self.session_id, "name": name, "mode": mode,
                                "owner": owner, "waitMillis": wait_ms}
        if mode == "permits":
            v.check_permits(permits, max_permits)
            body["permits"] = permits
            body["maxPermits"] = max_permits
        if lease_ms:
            body["leaseMillis"] = lease_ms
        a, sent_at = self._acquire_call("/api/v1/acquire", body, name, wait_ms)
        b = a.body if isinstance(a.body, dict) else {}
        if not b.get("granted") or b.get("token") is None:
            raise LockTimeout("holdfast: %s was not granted within %d ms" % (name, wait_ms))
        lease = Lease(self, str(b.get("name") or name), int(b["token"]), mode,
                      permits if mode == "permits" else 1,
                      lease_ms / 1000.0 if lease_ms else None, sent_at)
        self._adopt(lease)
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
        body: Dict[str, Any] = {"session": self.session_id, "names": names, "mode": mode,
                                "owner": owner, "waitMillis": wait_ms}
        if lease_ms:
            body["leaseMillis"] = lease_ms
        label = ", ".join(names)
        a, sent_at = self._acquire_call("/api/v1/acquire-all", body, names[0], wait_ms)
        b = a.body if isinstance(a.body, dict) else {}
        if not b.get("granted") or not isinstance(b.get("locks"), list):
            raise LockTimeout("holdfast: %s were not granted within %d ms" % (label, wait_ms))
        leases = [Lease(self, str(l["name"]), int(l["token"]), mode, 1,
                        lease_ms / 1000.0 if lease_ms else None, sent_at) for l in b["locks"]]
        for l in leases:
            self._adopt(l)
        return LeaseSet(leases)

    def _acquire_call(self, path: str, body: Dict[str, Any], name: str,
                      wait_ms: int) -> Tuple[Answer, float]:
        self._check_open()
        n = self._ledger.begin()
        stamped = self._ledger.stamp(n, body)
        wait_s = wait_ms / 1000.0
        sent_at = time.monotonic()
        try:
            a = self._transport.call("POST", path, stamped,
                                     http_timeout=wait_s + self.request_timeout,
                                     deadline=sent_at + wait_s + self.request_timeout + ACQUIRE_GRACE,
                                     stop=self._closing)
        except Unavailable:
            self._withdraw_later(n, name)
            raise
        self._ledger.finish(n)
        if not a.ok:
            self._raise(a)
        # When the lease timeout starts, for renewals: a try-once is granted after it was sent; a
        # wait when its answer comes (a grant lost meanwhile is answered LOCK_LOST instead).
        return a, (sent_at if wait_ms == 0 else time.monotonic())

    def _adopt(self, lease: Lease) -> None:
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
            threading.Thread(target=self._renew_loop, args=(lease,), daemon=True,
                             name="holdfast-renew-%s" % lease.name).start()

    def _forget(self, lease: Lease) -> None:
        with self._lock:
            if self._leases.get((lease.name, lease.fencing_token)) is lease:
                del self._leases[(lease.name, lease.fencing_token)]

    def _lose(self, lease: Lease, reason: str) -> None:
        self._forget(lease)
        lease._mark_lost(reason)

    def _release(self, lease: Lease) -> None:
        if not lease.valid:
            return
        if self._closed or self._expired:
            return  # close released it; expiry lost it (and said so)
        body = {"session": self.session_id, "name": lease.name, "token": lease.fencing_token}
        try:
            a = self._numbered("/api/v1/release", body, background=True)
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
            if lease.wait_lost(1.0) and not lease.valid:
                self._forget(lease)
                return
            self._lose(lease, "unknown")
            raise error_for(a.status, a.body, a.member)
        self._raise(a)

    def _renew_loop(self, lease: Lease) -> None:
        lease_s = lease.lease_timeout or 0.0
        interval = lease_s / 3.0
        last_acked_sent = lease._acquired_at
        next_at = last_acked_sent + interval
        body = {"session": self.session_id, "name": lease.name, "token": lease.fencing_token}
        while not lease._done.wait(max(0.0, next_at - time.monotonic())):
            if self._stopped.is_set():
                return
            sent = time.monotonic()
            deadline = last_acked_sent + lease_s
            if sent >= deadline:
                self._lose(lease, "leaseTimeout")
                return
            try:
                a = self._numbered("/api/v1/renew", body, deadline=deadline,
                                   http_timeout=min(self.request_timeout, interval),
                                   background=True)
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
                if not lease.wait_lost(0.5):
                    self._lose(lease, "leaseTimeout")
                return
            log.warning("holdfast: renewing %s: %s", lease.name, error_for(a.status, a.body, a.member))
            next_at = time.monotonic() + min(interval, 1.0)  # keep trying until the lease timeout

    def is_current(self, name: str, token: int) -> bool:
        """Whether ``token`` is still a current grant of lock ``name`` (linearizable, at the leader)."""
        v.check_name(name)
        v.check(isinstance(token, int) and not isinstance(token, bool) and token >= 0,
                "token must be a non-negative integer, not %r" % (token,))
        q = urllib.parse.urlencode({"name": name, "token": str(token)})
        a = self._plain("GET", "/api/v1/fence?" + q)
        if not a.ok:
            self._raise(a)
        return bool(a.body.get("current")) if isinstance(a.body, dict) else False

    # ---------------------------------------------------------------- registers

    def register(self, key: str) -> Register:
        """The register ``key`` (a handle; nothing is sent until get or compare_and_set)."""
        return Register(self, key)

    def _register_get(self, key: str) -> Tuple[int, Optional[bytes]]:
        a = self._plain("GET", "/api/v1/registers/" + urllib.parse.quote(key, safe="/"))
        if a.status == 404 and a.error_code() in (None, "NOT_FOUND"):
            return 0, None
        if not a.ok:
            self._raise(a)
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
        body: Dict[str, Any] = {"session": self.session_id, "key": key,
                                "expectedVersion": expected_version,
                                "value": base64.b64encode(bytes(value)).decode("ascii")}
        if fence is not None:
            body["fenceName"] = fence.name
            body["fenceToken"] = fence.fencing_token
        a = self._numbered("/api/v1/registers/set", body)
        if not a.ok:
            self._raise(a)
        return int(a.body.get("version")) if isinstance(a.body, dict) else 0

    @property
    def keys(self) -> Keys:
        """The keys (:class:`~holdfast.keys.Keys`): get, put, delete, add, list, scan, watch,
        commit a transaction, and group membership; writes go through this session."""
        return Keys(self)

    # ---------------------------------------------------------------- watches and elections

    def watch(self, lock: Optional[str] = None, *, prefix: Optional[str] = None,
              register: Optional[str] = None, keys: Optional[str] = None) -> Watch:
        """Follows a lock (``watch("jobs/a")``), every lock under a prefix (``prefix="jobs/"``,
        ``""`` for all), a register (``register="config/x"``) or every key under a prefix
        (``keys="services/web/"``; ``registerDeleted`` too): a :class:`~holdfast.watch.Watch`
        that yields the complete state first (``state``), then every change in the cluster's
        order, until closed. See :mod:`holdfast.watch` for what it guarantees."""
        self._check_open()
        kind, name = target_query(lock, prefix, register, keys)
        return Watch(self, kind, name)

    def await_free(self, name: str, timeout: float) -> bool:
        """Waits until nobody holds lock ``name`` (True), or ``timeout`` seconds pass (False),
        through a watch. No grant: the lock may be taken again at once."""
        self._check_open()
        return await_free(self, name, timeout)

    def election(self, name: str) -> Election:
        """The leader election of ``name`` (its lock and its register): campaign, leader."""
        return Election(self, name)

    # ---------------------------------------------------------------- requests

    def _numbered(self, path: str, body: Dict[str, Any], *, deadline: Optional[float] = None,
                  http_timeout: Optional[float] = None, background: bool = False) -> Answer:
        """Sends a numbered request until its final answer. If none comes in time, the request is
        re-sent in the background (same number) until answered, and Unavailable is raised."""
        self._check_open()
        n = self._ledger.begin()
        stamped = self._ledger.stamp(n, body)
        if deadline is None:
            deadline = time.monotonic() + 3 * self.request_timeout
        try:
            a = self._transport.call("POST", path, stamped,
                                     http_timeout=http_timeout or self.request_timeout,
                                     deadline=deadline,
                                     stop=self._stopped if background else self._closing)
        except Unavailable:
            self._resend_later(n, path, stamped)
            raise
        self._ledger.finish(n)
        if a.status == 410:
            self._raise(a)
        return a

    def _plain(self, method: str, path: str) -> Answer:
        """An unnumbered request at the leader (reads), retried until about 3x the request timeout."""
        self._check_open()
        return self._transport.call(method, path, None, http_timeout=self.request_timeout,
                                    deadline=time.monotonic() + 3 * self.request_timeout,
                                    stop=self._closing)

    def _raise(self, a: Answer) -> None:
        err = error_for(a.status, a.body, a.member)
        if isinstance(err, SessionExpired):
            self._expire("sessionExpired")
        raise err

    def _resend_later(self, n: int, path: str, stamped: Dict[str, Any],
                      on_answer: Optional[Callable[[Answer], None]] = None) -> None:
        """Keeps sending a request whose answer was lost until answered (or the session ends),
        so that its number stops being outstanding."""

        def run() -> None:
            while not self._stopped.is_set():
                try:
                    a = self._transport.call("POST", path, stamped,
                                             http_timeout=self.request_timeout,
                                             deadline=time.monotonic() + 30.0, stop=self._stopped)
                except HoldfastError:
                    continue
                self._ledger.finish(n)
                if on_answer is not None:
                    try:
                        on_answer(a)
                    except Exception:
                        log.exception("holdfast: resolving request %d failed", n)
                return

        threading.Thread(target=run, name="holdfast-resend-%d" % n, daemon=True).start()

    def _withdraw_later(self, n: int, name: str) -> None:
        """An acquire without an answer: cancel its wait in the background, keep its number
        outstanding until the cancel is answered, and release a grant the cancel reports."""
        m = self._ledger.begin()
        cancel = self._ledger.stamp(m, {"session": self.session_id, "name": name,
                                        "waitRequestId": n})

        def settled(a: Answer) -> None:
            self._ledger.finish(n)
            b = a.body if isinstance(a.body, dict) else {}
            if a.ok and not b.get("cancelled") and b.get("token") is not None:
                try:
                    self._numbered("/api/v1/release",
                                   {"session": self.session_id, "name": name,
                                    "token": int(b["token"])}, background=True)
                except HoldfastError:
                    pass

        self._resend_later(m, "/api/v1/cancel", cancel, settled)

    # ---------------------------------------------------------------- losses

    def _on_events(self, r: PollResult, sent_at: float) -> None:
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
            self._expire("sessionExpired")
            return
        if r.closed and not self._closing.is_set():
            self._expire("sessionExpired")
            return
        if r.gap and r.holds is not None:
            with self._lock:
                held = list(self._leases.values())
            for lease in lost_in_gap(r.holds, held):
                # A grant made after the state was taken is not listed either: ask the leader
                # (linearizable) before declaring it lost.
                if not self._still_current(lease):
                    self._lose(lease, "unknown")

    def _still_current(self, lease: Lease) -> bool:
        try:
            return self.is_current(lease.name, lease.fencing_token)
        except HoldfastError:
            return False

    def _expire(self, reason: str) -> None:
        """The session is gone: every lease is lost, background loops stop, later calls raise."""
        with self._lock:
            if self._expired or self._closed:
                return
            self._expired = True
            leases = list(self._leases.values())
            self._leases.clear()
        self._stopped.set()
        log.warning("holdfast: session %s expired", self.session_id)
        for lease in leases:
            lease._mark_lost(reason)

    # ---------------------------------------------------------------- close

    def close(self) -> None:
        """Stops the background threads, closes the session (its grants are released) and marks
        the leases released (no loss callbacks). Idempotent; never raises for an unreachable
        cluster (the session then expires after its TTL)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            was_expired = self._expired
            leases = list(self._leases.values())
            self._leases.clear()
        self._closing.set()
        self._stopped.set()
        self._transport.abort_all()
        if not was_expired:
            n = self._ledger.begin()
            body = self._ledger.stamp(n, {})
            try:
                a = self._transport.call(
                    "DELETE", "/api/v1/sessions/" + urllib.parse.quote(self.session_id, safe=""),
                    body, http_timeout=self.request_timeout,
                    deadline=time.monotonic() + 2 * self.request_timeout)
                if not a.ok and a.status not in (404, 410):
                    log.warning("holdfast: closing session %s: %s", self.session_id,
                                error_for(a.status, a.body, a.member))
            except HoldfastError as e:
                log.warning("holdfast: closing session %s: %s", self.session_id, e)
        for lease in leases:
            lease._mark_released()
        self._transport.abort_all()
        self._dispatcher.stop(1.0)
