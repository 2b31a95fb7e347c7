"""The one clock of a client: every deadline, pause and timestamp of the library is read and
waited on through it, so that a test can give the client a clock that it moves itself.

A clock has three methods: ``now()``, monotonic seconds (only differences mean anything);
``wait(event, timeout)``, which waits until ``event`` is set or ``timeout`` seconds of this clock
have passed and returns whether it was set (``threading.Event.wait``'s contract); and
``sleep(seconds)``. :data:`SYSTEM` is ``time.monotonic`` and real waits: the default.

Not on the clock: the socket timeouts of single HTTP exchanges (the kernel's), and the short
bounded waits of the library's own threads for each other (a reader's room, a thread's join).
"""

import threading
import time


class SystemClock:
    """``time.monotonic()`` and real waits."""

    def now(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.wait(max(0.0, timeout))

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


#: The clock of a client not given one.
SYSTEM = SystemClock()
