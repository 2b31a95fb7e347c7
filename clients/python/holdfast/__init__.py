"""Holdfast: a client for the Holdfast distributed lock service, over the members' HTTP ports.

    import holdfast
    with holdfast.Client(["http://127.0.0.1:4655"]) as client:
        with client.lock("jobs/nightly", wait=30) as lease:
            print(lease.fencing_token)

See README.md for the guarantees and docs/protocol.md for the wire protocol.
"""

from . import errors
from .client import Client, LockContext, Register
from .errors import (Conflict, Deadlock, HoldfastError, InvalidArgument, LockLost, LockTimeout,
                     NotFound, NotOwner, PermissionDenied, QuotaExceeded, SessionExpired,
                     Unavailable)
from .lease import Lease, LeaseSet

__version__ = "0.1.0"

__all__ = [
    "Client", "Lease", "LeaseSet", "LockContext", "Register", "errors",
    "HoldfastError", "LockTimeout", "InvalidArgument", "LockLost", "NotOwner", "Conflict",
    "Deadlock", "SessionExpired", "Unavailable", "PermissionDenied", "QuotaExceeded", "NotFound",
]
