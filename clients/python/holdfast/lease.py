"""Leases: what an acquire returns.

A :class:`Lease` is one grant of one lock (exclusive, shared, or semaphore permits) with its
fencing token. It stays *valid* until it is released or the library learns that it was lost
(revoked, lease timeout, session expiry, or found missing after a gap in the event stream).
Guaranteed: a loss callback is called once per registration, on the library's callback thread,
with the reason. Not guaranteed: that ``valid`` is true at the very moment the cluster takes the
grant away — a loss is known only once reported (normally within a second); use the fencing token
to protect the resource itself.
"""

import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from ._clock import SYSTEM

if TYPE_CHECKING:  # pragma: no cover
    from ._session import Session

LossCallback = Callable[["Lease", str], Any]

HELD = "held"
LOST = "lost"
RELEASED = "released"

#: The reasons a loss callback can receive.
REASONS = ("revoked", "leaseTimeout", "sessionExpired", "unknown")


class Lease:
    """One grant: ``name``, ``fencing_token`` (an int, always increasing per lock), ``valid``.

    Made by the client with its :class:`~holdfast._session.Session` (the internal interface it
    releases through and runs loss callbacks on), or with None: a lease of no session."""

    def __init__(self, session: "Optional[Session]", name: str, token: int, mode: str = "exclusive",
                 permits: int = 1, lease_timeout: Optional[float] = None,
                 acquired_at: Optional[float] = None) -> None:
        self._session = session
        self.name = name
        self.fencing_token = int(token)
        self.mode = mode
        self.permits = permits
        self.lease_timeout = lease_timeout
        clock = session.clock if session is not None else SYSTEM
        #: when the lease timeout started, on the session's clock
        self._acquired_at = clock.now() if acquired_at is None else acquired_at
        self._lock = threading.Lock()
        self._state = HELD
        self._reason: Optional[str] = None
        self._callbacks: List[LossCallback] = []
        self._done = threading.Event()  # set once lost or released

    @property
    def token(self) -> int:
        """The fencing token (same as ``fencing_token``)."""
        return self.fencing_token

    @property
    def valid(self) -> bool:
        """True while held: neither released nor known to be lost."""
        with self._lock:
            return self._state == HELD

    @property
    def lost_reason(self) -> Optional[str]:
        """Why it was lost (``revoked``, ``leaseTimeout``, ``sessionExpired``, ``unknown``), or None."""
        with self._lock:
            return self._reason

    def on_lost(self, callback: LossCallback) -> "Lease":
        """Calls ``callback(lease, reason)`` once when the lease is lost (at once if it already is).

        A lease that is released by its holder is not lost: the callback is then never called.
        """
        with self._lock:
            if self._state == HELD:
                self._callbacks.append(callback)
                return self
            lost = self._state == LOST
            reason = self._reason
        if lost:
            self._dispatch(callback, reason or "unknown")
        return self

    def release(self) -> None:
        """Gives the grant back. Idempotent; a no-op once lost (a lost grant is not held).

        Raises :class:`~holdfast.errors.NotOwner` only when the cluster says the session does not
        hold it and no loss was reported; :class:`~holdfast.errors.Unavailable` when no member
        confirmed the release in time (the library keeps sending it in the background).
        """
        if self._session is None:
            self._mark_released()
            return
        self._session.release(self)

    def wait_lost(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the lease is lost or released; True if it is no longer held."""
        return self._done.wait(timeout)

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __repr__(self) -> str:
        return "Lease(name=%r, token=%d, state=%s%s)" % (
            self.name, self.fencing_token, self._state,
            (", reason=" + self._reason) if self._reason else "")

    # ---------------------------------------------------------------- library side

    def _mark_lost(self, reason: str) -> bool:
        """Held -> lost; calls the callbacks. False if it was not held."""
        with self._lock:
            if self._state != HELD:
                return False
            self._state = LOST
            self._reason = reason
            callbacks = list(self._callbacks)
            self._callbacks.clear()
        self._done.set()
        for cb in callbacks:
            self._dispatch(cb, reason)
        return True

    def _mark_released(self) -> bool:
        with self._lock:
            if self._state != HELD:
                return False
            self._state = RELEASED
            self._callbacks.clear()
        self._done.set()
        return True

    def _dispatch(self, callback: LossCallback, reason: str) -> None:
        if self._session is not None:
            self._session.dispatch(callback, self, reason)
        else:
            callback(self, reason)


class LeaseSet:
    """What :meth:`Client.acquire_all` returns: one :class:`Lease` per name, all or none.

    ``valid`` is true while every lease is; ``release()`` releases them all; ``on_lost`` registers
    the callback on each (it is called with the lease that was lost).
    """

    def __init__(self, leases: List[Lease]) -> None:
        self.leases: Dict[str, Lease] = {l.name: l for l in leases}

    @property
    def names(self) -> List[str]:
        return list(self.leases)

    @property
    def tokens(self) -> Dict[str, int]:
        """Name -> fencing token."""
        return {n: l.fencing_token for n, l in self.leases.items()}

    @property
    def valid(self) -> bool:
        return all(l.valid for l in self.leases.values())

    def __getitem__(self, name: str) -> Lease:
        return self.leases[name]

    def __iter__(self):
        return iter(self.leases.values())

    def __len__(self) -> int:
        return len(self.leases)

    def on_lost(self, callback: LossCallback) -> "LeaseSet":
        for l in self.leases.values():
            l.on_lost(callback)
        return self

    def release(self) -> None:
        """Releases every lease (each idempotently); raises the first error after trying all."""
        first: Optional[BaseException] = None
        for l in self.leases.values():
            try:
                l.release()
            except Exception as e:  # keep releasing the others
                first = first or e
        if first is not None:
            raise first

    def __enter__(self) -> "LeaseSet":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __repr__(self) -> str:
        return "LeaseSet(%r)" % (list(self.leases.values()),)
