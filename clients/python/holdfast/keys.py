"""Keys (protocol.md, "Keys"): small values that can be deleted, listed and watched by prefix,
attached to the session, given a time to live, counted, and changed several at once.

    keys = client.keys
    keys.put("config/x", b"on")                          # -> the new version
    keys.put("services/web/i-17", b"10.0.0.7:8080", attach=True)   # gone when the session ends
    keys.add("stats/runs", 1)                             # -> the counter's new value
    for entry in keys.scan("services/web/"): ...          # every page, in byte order
    keys.commit(Txn.when(txn.version("a", "equal", 3)).then(txn.put("a", b"x"), txn.delete("b")))

Guaranteed: every write carries a request id of the session's ledger, so a write retried after a
lost answer applies once (a transaction too: its branch runs once). A key written with
``attach=True`` is deleted in the same step as the session ends, and every watcher of it is told
``registerDeleted`` with the cause (``sessionExpired``, ``sessionClosed``); with ``ttl`` it is
deleted that many seconds after the write (``leaseTimeout``). A put without ``attach``, ``detach``
or ``ttl`` keeps the key's lifetime: attached to its session (whichever session writes it) or its
deadline, as ZooKeeper's setData keeps a node ephemeral; ``detach=True`` makes it live until
deleted (before protocol version 8 a server detaches on every put without them). Not guaranteed: that the pages of
:meth:`Keys.scan` were read at one point (each page is read where it was read, its ``position``).
"""

import base64
import struct
import urllib.parse
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence

from . import _validate as v
from .errors import Conflict

if TYPE_CHECKING:  # pragma: no cover
    from ._session import Session
    from .lease import Lease
    from .watch import Watch

#: An expected version any version matches (a put or delete without a condition).
ANY_VERSION = -1
#: The most keys one page lists.
MAX_PAGE = 1000

#: The refusal of a prefix delete without a prefix, as the server words it.
EMPTY_PREFIX_DELETE = "a prefix delete needs a prefix: deleting every key at once is not offered"
#: The most compares, and ops per branch, of one transaction.
MAX_TXN_OPS = 128
#: The shortest and longest time to live of a key, in seconds.
MIN_TTL = 1
MAX_TTL = 30 * 86400
ORDERS = ("equal", "notEqual", "less", "greater")


class KeyEntry(NamedTuple):
    """One key as a read, a list or a watch saw it: ``owner`` is the session it is attached to."""

    key: str
    version: int
    value: bytes
    owner: Optional[str] = None

    @property
    def text(self) -> str:
        """The value as UTF-8 text."""
        return self.value.decode("utf-8")

    @property
    def counter(self) -> int:
        """The value as a counter (8 bytes, a signed big-endian 64-bit integer); InvalidArgument
        (``K holds N bytes, not a counter (exactly 8 bytes)``, the server's words) otherwise."""
        v.check(len(self.value) == 8, "%s holds %d bytes, not a counter (exactly 8 bytes)"
                % (self.key, len(self.value)))
        return struct.unpack(">q", self.value)[0]


class KeyListing(NamedTuple):
    """One page of :meth:`Keys.list`: keys in byte order, read at ``position``."""

    entries: List[KeyEntry]
    more: bool
    position: str

    @property
    def next(self) -> Optional[str]:
        """The ``after`` of the next page; None when there is none."""
        return self.entries[-1].key if self.more and self.entries else None


class OpResult(NamedTuple):
    """One op's result: a put's new version, a delete's old one (0: absent), an add's new version
    and ``counter``, a get's version and ``value`` (None when absent)."""

    version: int
    value: Optional[bytes] = None
    counter: int = 0


class TxnResult(NamedTuple):
    """Which branch ran (``succeeded``: ``then``) and one result per op of it."""

    succeeded: bool
    results: List[OpResult]


def _bytes(value: Any, what: str = "a key's value") -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    v.check(isinstance(value, (bytes, bytearray, memoryview)),
            "%s is bytes or str, not %s" % (what, type(value).__name__))
    return bytes(value)


def _b64(value: Any) -> str:
    return base64.b64encode(_bytes(value)).decode("ascii")


def _check_version(expected: Any) -> int:
    v.check(isinstance(expected, int) and not isinstance(expected, bool) and expected >= ANY_VERSION,
            "expected_version is 0 or more, or ANY_VERSION (-1), not %r" % (expected,))
    return expected


def _ttl_millis(ttl: Optional[float]) -> int:
    if ttl is None or ttl == 0:
        return 0
    v.check(isinstance(ttl, (int, float)) and not isinstance(ttl, bool)
            and MIN_TTL <= ttl <= MAX_TTL, "a key's ttl is 1 s to 30 days (seconds), not %r" % (ttl,))
    return int(round(ttl * 1000))


def _put_fields(key: str, value: Any, expected_version: int, attach: bool,
                ttl: Optional[float], detach: bool = False,
                lease: Optional[str] = None) -> Dict[str, Any]:
    v.check_name(key, "key")
    v.check(not (attach and detach), "a put attaches or detaches its key, not both")
    if lease is not None:
        v.check(isinstance(lease, str) and lease != "",
                "a lease is the id of an open session, not %r" % (lease,))
        v.check(not detach and not ttl,
                "a put on a lease lives as long as the lease: no detach, no ttl")
    fields: Dict[str, Any] = {"key": key, "value": _b64(value),
                              "expectedVersion": _check_version(expected_version)}
    if lease is not None:
        # With attach: a server older than protocol version 10 ignores "lease" and attaches the
        # key to the writer's session rather than keeping it for ever.
        fields["lease"] = lease
        attach = True
    if attach:
        fields["attach"] = True
    if detach:
        fields["detach"] = True
    ttl_ms = _ttl_millis(ttl)
    if ttl_ms:
        fields["ttlMillis"] = ttl_ms
    return fields


def entry(raw: Any) -> KeyEntry:
    """A key of an answer (``{"key","version","value","owner"}``)."""
    value = raw.get("value")
    return KeyEntry(str(raw.get("key")), int(raw.get("version") or 0),
                    base64.b64decode(value) if isinstance(value, str) else b"", raw.get("owner"))


# ------------------------------------------------------------------ transactions


class Compare(NamedTuple):
    """One condition of a transaction, as the protocol writes it (``txn.version`` and the rest)."""

    json: Dict[str, Any]


class Op(NamedTuple):
    """One op of a transaction's branch (``txn.put`` and the rest)."""

    json: Dict[str, Any]


def version(key: str, order: str, number: int) -> Compare:
    """The key's version (0: absent) is ``order`` (equal, notEqual, less, greater) ``number``."""
    v.check_name(key, "key")
    v.check(order in ORDERS, "order is one of %s, not %r" % (", ".join(ORDERS), order))
    return Compare({"type": "version", "key": key, "order": order, "version": int(number)})


def value(key: str, expected: Any) -> Compare:
    """The key is present and holds exactly ``expected``."""
    v.check_name(key, "key")
    return Compare({"type": "value", "key": key, "value": _b64(expected)})


def absent(key: str) -> Compare:
    """The key is absent."""
    v.check_name(key, "key")
    return Compare({"type": "absent", "key": key})


def fence(lease: "Lease") -> Compare:
    """The lease is its lock's current grant to this session: the branch is fenced as one write."""
    return Compare({"type": "fence", "lock": lease.name, "token": lease.fencing_token})


def holder(lock: str, session_id: str) -> Compare:
    """Session ``session_id`` holds a grant of ``lock``."""
    v.check_name(lock)
    return Compare({"type": "holder", "lock": lock, "sessionId": session_id})


def session_alive(session_id: str) -> Compare:
    """Session ``session_id`` has not ended."""
    return Compare({"type": "sessionAlive", "sessionId": session_id})


def put(key: str, val: Any, *, expected_version: int = ANY_VERSION, attach: bool = False,
        ttl: Optional[float] = None, detach: bool = False, lease: Optional[str] = None) -> Op:
    """Writes the key as :meth:`Keys.put` does; its result is the new version."""
    return Op(dict(_put_fields(key, val, expected_version, attach, ttl, detach, lease), type="put"))


def delete(key: str, *, expected_version: int = ANY_VERSION) -> Op:
    """Deletes the key; its result is the version it had (0: absent)."""
    v.check_name(key, "key")
    return Op({"type": "delete", "key": key, "expectedVersion": _check_version(expected_version)})


def add(key: str, delta: int) -> Op:
    """Adds ``delta`` to the key's counter; its result has the new version and ``counter``."""
    v.check_name(key, "key")
    v.check(isinstance(delta, int) and not isinstance(delta, bool), "delta is an integer")
    return Op({"type": "add", "key": key, "delta": delta})


def get(key: str) -> Op:
    """Reads the key; its result has its version (0: absent) and ``value``."""
    v.check_name(key, "key")
    return Op({"type": "get", "key": key})


class Txn(NamedTuple):
    """A transaction: when every compare holds, ``then`` runs, else ``otherwise``; all of the
    branch's ops apply, or none. ``Txn.when(c1, c2).then(op1, op2).otherwise(op3)``."""

    compares: Sequence[Compare] = ()
    then_ops: Sequence[Op] = ()
    otherwise_ops: Sequence[Op] = ()

    @staticmethod
    def when(*compares: Compare) -> "Txn":
        return Txn(tuple(compares))

    def then(self, *ops: Op) -> "Txn":
        return self._replace(then_ops=tuple(ops))

    def otherwise(self, *ops: Op) -> "Txn":
        return self._replace(otherwise_ops=tuple(ops))

    def to_json(self) -> Dict[str, Any]:
        for what, items, kind in (("compares", self.compares, Compare),
                                  ("then", self.then_ops, Op), ("otherwise", self.otherwise_ops, Op)):
            v.check(len(items) <= MAX_TXN_OPS, "a transaction takes at most %d %s, not %d"
                    % (MAX_TXN_OPS, what, len(items)))
            v.check(all(isinstance(i, kind) for i in items),
                    "a transaction's %s are made with holdfast.txn's functions" % what)
        return {"compares": [c.json for c in self.compares],
                "then": [o.json for o in self.then_ops],
                "otherwise": [o.json for o in self.otherwise_ops]}


def _op_result(raw: Any) -> OpResult:
    raw = raw if isinstance(raw, dict) else {}
    val = raw.get("value")
    return OpResult(int(raw.get("version") or 0),
                    base64.b64decode(val) if isinstance(val, str) else None,
                    int(raw.get("counter") or 0))


# ------------------------------------------------------------------ keys


class Keys:
    """The keys of the cluster, through this client's session (``client.keys``).

    Made by the client with its :class:`~holdfast._session.Session` (the internal interface:
    reads, numbered writes, the typed errors of refusals, watches), not with the client."""

    def __init__(self, session: "Session") -> None:
        self._session = session

    def get(self, key: str) -> Optional[KeyEntry]:
        """The key (linearizable, at any member); None when it is absent."""
        v.check_name(key, "key")
        a = self._session.read("GET", "/api/v1/keys/" + urllib.parse.quote(key, safe="/"))
        if a.status == 404 and a.error_code() in (None, "NOT_FOUND"):
            return None
        if not a.ok:
            self._session.raise_for(a)
        return entry(a.body if isinstance(a.body, dict) else {})

    def put(self, key: str, value: Any, *, expected_version: int = ANY_VERSION,
            attach: bool = False, ttl: Optional[float] = None, detach: bool = False,
            lease: Optional[str] = None) -> int:
        """Writes ``value`` (bytes, or str as UTF-8) and returns the new version.

        ``expected_version``: the version the key must have (0: absent; ANY_VERSION: any).
        ``attach=True``: the key is deleted in the same step as this session ends. ``ttl``:
        seconds it lives after this write (1 s to 30 days). ``detach=True``: attached to no
        session. ``lease``: the id of another open session of the same identity (a lease, ADR
        0006, protocol version 10): the key is deleted in the same step as that one ends. Without
        any of them the key keeps its lifetime (its session, its deadline). Raises Conflict
        (``current_version``; or a lease that is not open), PermissionDenied (a lease of another
        identity), QuotaExceeded (10,000 keys on one session).
        """
        return self._version("/api/v1/keys/put", _put_fields(key, value, expected_version,
                                                             attach, ttl, detach, lease))

    def delete(self, key: str, *, expected_version: int = ANY_VERSION) -> int:
        """Deletes the key; returns the version it had (0: it was absent). Raises Conflict."""
        v.check_name(key, "key")
        return self._version("/api/v1/keys/delete",
                             {"key": key, "expectedVersion": _check_version(expected_version)})

    def delete_prefix(self, prefix: str, *, page: int = MAX_PAGE) -> int:
        """Deletes every key that starts with ``prefix`` and returns how many (etcd's
        ``DeleteRange`` with a prefix). Paged: each page of up to ``page`` keys is one step on the
        server (protocol version 9), the whole is not. An empty prefix is refused (InvalidArgument)
        before anything is sent."""
        v.check(isinstance(prefix, str), "a prefix is a string, not %s" % type(prefix).__name__)
        v.check(prefix != "", EMPTY_PREFIX_DELETE)
        v.check(isinstance(page, int) and not isinstance(page, bool) and 1 <= page <= MAX_PAGE,
                "page is 1 to %d, not %r" % (MAX_PAGE, page))
        deleted = 0
        while True:
            body = self._write("/api/v1/keys/delete-prefix", {"prefix": prefix, "limit": page})
            deleted += int(body.get("deleted") or 0)
            if not body.get("more"):
                return deleted

    def add(self, key: str, delta: int = 1) -> int:
        """Adds ``delta`` to the key's counter in one step (an absent key counts 0) and returns
        the new value. Raises InvalidArgument for a key that is not 8 bytes, or an overflow."""
        v.check_name(key, "key")
        v.check(isinstance(delta, int) and not isinstance(delta, bool),
                "delta is an integer, not %r" % (delta,))
        body = self._write("/api/v1/keys/add", {"key": key, "delta": delta})
        return int(body.get("value") or 0)

    def list(self, prefix: str = "", *, after: str = "", limit: int = MAX_PAGE,
             keys_only: bool = False) -> KeyListing:
        """One page of the keys under ``prefix`` after ``after``, in byte order, read at one point
        at the leader (``position``: a watch from there misses nothing). ``keys_only=True``
        (etcd's ``--keys-only``): the server sends no values; each entry's value is empty."""
        v.check(isinstance(prefix, str) and isinstance(after, str), "prefix and after are strings")
        v.check(isinstance(limit, int) and 1 <= limit <= MAX_PAGE,
                "limit is 1 to %d, not %r" % (MAX_PAGE, limit))
        v.check(isinstance(keys_only, bool), "keys_only is True or False, not %r" % (keys_only,))
        fields = {"prefix": prefix, "after": after, "limit": str(limit)}
        if keys_only:
            fields["keysOnly"] = "true"
        q = urllib.parse.urlencode(fields, quote_via=urllib.parse.quote)
        a = self._session.read("GET", "/api/v1/keys?" + q)
        if not a.ok:
            self._session.raise_for(a)
        b = a.body if isinstance(a.body, dict) else {}
        return KeyListing([entry(k) for k in b.get("keys") or [] if isinstance(k, dict)],
                          bool(b.get("more")), str(b.get("position") or ""))

    def scan(self, prefix: str = "", *, page: int = MAX_PAGE) -> Iterator[KeyEntry]:
        """Every key under ``prefix``, page after page (each page read at its own point)."""
        after = ""
        while True:
            listing = self.list(prefix, after=after, limit=page)
            yield from listing.entries
            if listing.next is None:
                return
            after = listing.next

    def watch(self, prefix: str) -> "Watch":
        """Follows every key under ``prefix``: a ``state`` first (``event.keys``), then
        ``registerSet`` and ``registerDeleted`` (with ``cause``) in the cluster's order."""
        return self._session.watch(keys=prefix)

    def commit(self, txn: Txn) -> TxnResult:
        """Runs the transaction in one step. Raises Conflict when an op of the branch that ran was
        refused (its message names the branch and the op: ``then op 2: ...``); nothing changed."""
        v.check(isinstance(txn, Txn), "commit takes a Txn, not %s" % type(txn).__name__)
        body = self._write("/api/v1/txn", txn.to_json())
        return TxnResult(bool(body.get("succeeded")),
                         [_op_result(r) for r in body.get("results") or []])

    def group(self, name: str) -> "Group":
        """The group membership of ``name``: members are the keys ``<name>/<member>``."""
        return Group(self, name)

    def _write(self, path: str, fields: Dict[str, Any]) -> Dict[str, Any]:
        a = self._session.write(path, fields)
        if not a.ok:
            self._session.raise_for(a)
        return a.body if isinstance(a.body, dict) else {}

    def _version(self, path: str, fields: Dict[str, Any]) -> int:
        return int(self._write(path, fields).get("version") or 0)


class Group:
    """Group membership (Curator's ``GroupMember``, ZooKeeper's ephemeral children): a member
    joins with a value under this client's session (the key ``<name>/<member>``, attached), and
    is gone when it leaves or its session ends.

    A member name belongs to one live session (protocol.md, "Group membership"): a join of a name
    another live session holds raises :class:`~holdfast.errors.Conflict` naming that session
    (``holder``) and changes nothing; joining again from this session writes the new value; a name
    whose session ended is free. Failure story: instance ``i-17`` is started twice by mistake; the
    second's join is refused (``member i-17 of group services/web is held by session AbC…``), so
    the first stays registered, and the second's exit deletes nothing of it."""

    def __init__(self, keys: Keys, name: str) -> None:
        v.check_name(name, "group name")
        self._keys = keys
        self.name = name
        self.prefix = name.rstrip("/") + "/"

    def join(self, member: str, value: Any = b"") -> int:
        """Joins as ``member`` with ``value`` (the key's version); again to change the value.
        Raises Conflict (``holder``: the session holding the name) when another session holds it.

        The client joins it again, with the last value, each time it opens a new session after
        losing one (unless it left): by the same rule, so a name another live session took
        meanwhile is not taken over; :meth:`on_rejoin_failed` is told instead. A join again that
        fails otherwise (the service unreachable again) is tried again, from 100 ms doubling to
        1 s, until it is written, the name is another's, the member leaves, the client closes or
        a newer session joins it. A key still held by one of this client's own lost sessions (the
        service has not expired it yet) is this client's, and is joined again."""
        key = self._key(member)
        raw = _bytes(value, "a member's value")
        session = self._keys._session
        while True:
            me = session.current(session.clock.now() + 3 * session.request_timeout).id
            now = self._keys.get(key)
            if now is not None and now.owner != me and not session.own(now.owner):
                raise Conflict("member %s of group %s is held by %s"
                               % (member, self.name.rstrip("/"),
                                  "session " + now.owner if now.owner else "no session"),
                               status=409, details={"currentVersion": now.version,
                                                    "holder": now.owner})
            try:
                version = self._keys.put(key, raw, attach=True,
                                         expected_version=now.version if now is not None else 0)
            except Conflict:
                continue  # changed since the read (joined, left, its session ended): read again
            session.joined(self.prefix, member, raw)
            return version

    def leave(self, member: str) -> bool:
        """Leaves the group at once (else it leaves when the session ends, and is not joined
        again); whether this session was ``member`` (another session's key is never deleted)."""
        key = self._key(member)
        session = self._keys._session
        session.left(self.prefix, member)
        now = self._keys.get(key)
        if now is None or now.owner != session.id:
            return False
        try:
            self._keys.delete(key, expected_version=now.version)
            return True
        except Conflict:
            return False  # written or deleted since the read: no longer this session's

    def on_rejoin_failed(self, callback: Callable[[str, Optional[str]], Any]) -> "Group":
        """Calls ``callback(member, holder)`` on the client's callback thread when a member this
        client had joined could not be joined again under a new session because another live
        session (``holder``) holds the name: it is not taken over, and not tried again."""
        self._keys._session.on_rejoin_failed(self.prefix, callback)
        return self

    def _key(self, member: str) -> str:
        v.check(isinstance(member, str) and member != "" and "/" not in member,
                "a member is a non-empty string without '/', not %r" % (member,))
        return self.prefix + member

    def members(self) -> Dict[str, bytes]:
        """The live members and their values."""
        return {self.member(e.key): e.value for e in self._keys.scan(self.prefix)}

    def member(self, key: str) -> str:
        """The member a key (or a watch event's ``name``) of this group stands for."""
        return key[len(self.prefix):] if key.startswith(self.prefix) else key

    def watch(self) -> "Watch":
        """A watch of the members: ``state`` (``event.keys``), then ``registerSet`` (a join or a
        new value) and ``registerDeleted`` (a leave; ``cause`` says why)."""
        return self._keys.watch(self.prefix)

    def __repr__(self) -> str:
        return "Group(%r)" % self.name
