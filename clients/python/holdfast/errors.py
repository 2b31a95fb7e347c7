"""Typed errors of the Holdfast client.

Every error the library raises is a :class:`HoldfastError` carrying the protocol's ``code``
(``TIMEOUT``, ``NOT_OWNER``, ...) and a one-line ``message`` that names the real cause. Each code
has its own subclass, so callers can ``except holdfast.errors.LockTimeout``.
"""

from typing import Any, Dict, Optional, Type

__all__ = [
    "HoldfastError",
    "LockTimeout",
    "InvalidArgument",
    "LockLost",
    "NotOwner",
    "Conflict",
    "Deadlock",
    "SessionExpired",
    "Unavailable",
    "PermissionDenied",
    "QuotaExceeded",
    "NotFound",
    "error_for",
]

_BY_CODE: Dict[str, Type["HoldfastError"]] = {}


class HoldfastError(Exception):
    """Base of every error raised by the library.

    ``code`` is the protocol's error code, ``message`` a one-line description of the cause.
    ``status`` is the HTTP status that carried it (0 when no member answered).
    """

    code = "UNKNOWN"

    def __init_subclass__(cls, code: Optional[str] = None, **kwargs: Any) -> None:
        """A subclass that names a protocol code (``class NotOwner(HoldfastError, code="NOT_OWNER")``)
        is the type :func:`error_for` raises for that code; one that names none keeps its base's."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
            _BY_CODE[code] = cls

    def __init__(self, message: str, code: Optional[str] = None, status: int = 0,
                 details: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.status = status
        self.details = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def _int_detail(self, key: str) -> Optional[int]:
        value = self.details.get(key)
        return int(value) if value is not None else None

    def __repr__(self) -> str:
        return "%s(code=%r, message=%r)" % (type(self).__name__, self.code, self.message)


class LockTimeout(HoldfastError, code="TIMEOUT"):
    """The lock was not free (no wait) or the wait ran out: nothing is held or queued."""


class InvalidArgument(HoldfastError, code="INVALID_ARGUMENT"):
    """The request was refused as malformed (checked locally, or by the server: 400)."""


class LockLost(HoldfastError, code="LOCK_LOST"):
    """The grant was made and lost again before its answer arrived (``token`` says which)."""

    @property
    def token(self) -> Optional[int]:
        return self._int_detail("token")


class NotOwner(HoldfastError, code="NOT_OWNER"):
    """The session does not hold that grant (any more)."""


class Conflict(HoldfastError, code="CONFLICT"):
    """A register's version was not the expected one; ``current_version`` is the actual one.
    A refused group join also names ``holder``: the session that holds the member name."""

    @property
    def current_version(self) -> Optional[int]:
        return self._int_detail("currentVersion")

    @property
    def holder(self) -> Optional[str]:
        value = self.details.get("holder")
        return value if isinstance(value, str) else None


class Deadlock(HoldfastError, code="DEADLOCK"):
    """The wait would close a cycle; ``cycle`` names the locks when the server said so."""

    @property
    def cycle(self) -> Any:
        return self.details.get("cycle")


class SessionExpired(HoldfastError, code="SESSION_EXPIRED"):
    """The session is gone (expired, ended or closed): every grant it held is lost."""


class Unavailable(HoldfastError, code="UNAVAILABLE"):
    """No member gave a final answer in time; the message names the last cause."""


class PermissionDenied(HoldfastError, code="PERMISSION_DENIED"):
    """The identity may not do this (401, 403)."""


class QuotaExceeded(HoldfastError, code="QUOTA_EXCEEDED"):
    """A quota of the server was reached (429)."""


class NotFound(HoldfastError, code="NOT_FOUND"):
    """The thing asked for does not exist (404)."""


_BY_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "PERMISSION_DENIED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "CONFLICT",
    410: "SESSION_EXPIRED",
    429: "QUOTA_EXCEEDED",
}


def error_for(status: int, body: Any, where: str = "") -> HoldfastError:
    """The typed error for an HTTP error answer (``body`` is the parsed JSON, or raw text/None).

    A body of the protocol's shape ``{"error":{"code","message",...}}`` gives the code and the
    message; otherwise the code follows from the status and the message says what came back.
    """
    code = None
    message = None
    details: Dict[str, Any] = {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        code = err.get("code") if isinstance(err.get("code"), str) else None
        message = err.get("message") if isinstance(err.get("message"), str) else None
        details = {k: v for k, v in err.items() if k not in ("code", "message")}
    if code is None:
        code = _BY_STATUS.get(status, "UNAVAILABLE" if status >= 500 else "UNKNOWN")
    if not message:
        text = body if isinstance(body, str) else ""
        text = " ".join(text.split())[:200]
        message = "holdfast: %s answered HTTP %d%s" % (where or "the server", status,
                                                     (": " + text) if text else "")
    message = " ".join(message.split())  # one line
    cls = _BY_CODE.get(code, HoldfastError)
    return cls(message, code=code, status=status, details=details)
