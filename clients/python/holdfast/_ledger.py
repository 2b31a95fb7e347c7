"""The per-session ledger of request ids (protocol.md, "Request ids").

Requests are numbered 1, 2, 3, ... A number is *outstanding* from before its request is first
sent until its final answer is known; ``ackedBelow`` is the lowest outstanding number (the
request's own included), so the cluster may forget every answer below it.
"""

import threading
from typing import Any, Dict, Set


class Ledger:
    """Thread-safe numbering of a session's requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 1
        self._outstanding: Set[int] = set()

    def begin(self) -> int:
        """Takes the next number and marks it outstanding."""
        with self._lock:
            n = self._next
            self._next += 1
            self._outstanding.add(n)
            return n

    def acked_below(self) -> int:
        """The lowest outstanding number, or the next number when none is outstanding."""
        with self._lock:
            return min(self._outstanding) if self._outstanding else self._next

    def finish(self, n: int) -> None:
        """Marks ``n``'s final answer as known (idempotent)."""
        with self._lock:
            self._outstanding.discard(n)

    def outstanding(self) -> Set[int]:
        with self._lock:
            return set(self._outstanding)

    def stamp(self, n: int, body: Dict[str, Any]) -> Dict[str, Any]:
        """``body`` with ``requestId`` = n and ``ackedBelow`` = the lowest outstanding number."""
        out = dict(body)
        out["requestId"] = n
        out["ackedBelow"] = self.acked_below()
        return out
