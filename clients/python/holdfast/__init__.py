"""Holdfast: a client for the Holdfast distributed lock service, over the members' HTTP ports.

    import holdfast
    with holdfast.Client(["http://127.0.0.1:4655"]) as client:
        with client.lock("jobs/nightly", wait=30) as lease:
            print(lease.fencing_token)
        with client.watch("jobs/nightly") as watch:      # the state, then every change
            for event in watch: ...
        with client.election("services/indexer").campaign("host:8080", wait=60) as leading:
            print(leading.epoch)
        client.keys.put("services/web/i-17", b"10.0.0.7:8080", attach=True)  # gone with the session

See README.md for the guarantees and docs/protocol.md for the wire protocol.
"""

from . import errors
from ._session import SessionListener
from .client import Client, LockContext, Register
from .election import Election, Leader, Leadership
from .errors import (Conflict, Deadlock, HoldfastError, InvalidArgument, LockLost, LockTimeout,
                     NotFound, NotOwner, PermissionDenied, QuotaExceeded, SessionExpired,
                     Unavailable)
from . import txn
from .keys import (ANY_VERSION, Group, KeyEntry, KeyListing, Keys, OpResult, Txn, TxnResult)
from .lease import Lease, LeaseSet
from .watch import Watch, WatchEvent

__version__ = "0.1.0"

__all__ = [
    "Client", "SessionListener", "Lease", "LeaseSet", "LockContext", "Register", "errors",
    "Watch", "WatchEvent", "Election", "Leader", "Leadership",
    "Keys", "KeyEntry", "KeyListing", "Txn", "TxnResult", "OpResult", "Group", "ANY_VERSION", "txn",
    "HoldfastError", "LockTimeout", "InvalidArgument", "LockLost", "NotOwner", "Conflict",
    "Deadlock", "SessionExpired", "Unavailable", "PermissionDenied", "QuotaExceeded", "NotFound",
]
