"""Argument checks made before anything is sent. The server stays the authority on name rules
(segments, length): only what is plainly wrong is refused here, with InvalidArgument."""

import math
from typing import Any, Optional

from .errors import InvalidArgument

MODES = ("exclusive", "shared", "permits")


def invalid(message: str) -> InvalidArgument:
    return InvalidArgument("holdfast: " + message)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise invalid(message)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def check_name(name: Any, what: str = "lock name") -> None:
    check(isinstance(name, str), "a %s is a string, not %s" % (what, type(name).__name__))
    check(name != "", "a %s must not be empty" % what)


def _seconds_to_millis(value: Any, what: str) -> int:
    check(isinstance(value, (int, float)) and not isinstance(value, bool)
          and not math.isnan(value) and not math.isinf(value),
          "%s is a number of seconds, not %r" % (what, value))
    check(value >= 0, "%s must not be negative, not %r" % (what, value))
    return int(round(value * 1000))


def check_wait(wait: Any) -> int:
    """``wait`` in seconds -> waitMillis."""
    return _seconds_to_millis(wait, "wait")


def check_lease_timeout(lease_timeout: Any) -> int:
    """``lease_timeout`` in seconds (None or 0: none) -> leaseMillis."""
    if lease_timeout is None:
        return 0
    return _seconds_to_millis(lease_timeout, "lease_timeout")


def check_owner(owner: Any) -> None:
    check(_is_int(owner) and owner >= 0, "owner must be a non-negative integer, not %r" % (owner,))


def check_mode(mode: Optional[str], shared: bool, max_permits: Optional[int]) -> str:
    if mode is None:
        if max_permits is not None:
            mode = "permits"
        else:
            mode = "shared" if shared else "exclusive"
    check(mode in MODES, "mode must be one of %s, not %r" % (", ".join(MODES), mode))
    check(not (shared and mode != "shared"), "shared=True contradicts mode %r" % mode)
    return mode


def check_permits(permits: Any, max_permits: Any) -> None:
    check(_is_int(permits) and permits >= 1, "permits must be at least 1, not %r" % (permits,))
    check(_is_int(max_permits) and max_permits >= 1,
          "max_permits must be at least 1, not %r" % (max_permits,))
    check(permits <= max_permits,
          "permits (%d) must not exceed max_permits (%d)" % (permits, max_permits))
