"""Durations as people write them, as every Holdfast client and the server print them: ``500ms``,
``10s``, ``1m30s``, ``24h``; never ``10.0 s`` (docs/protocol.md, the Java client's DurationText)."""

_UNITS = (("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1))


def format_duration(seconds: float) -> str:
    """Whole terms from hours down to milliseconds, each at most once, in the fewest terms (``90``
    is ``1m30s``); zero is ``0s``; a rest under a millisecond is dropped, and a positive duration
    under one is ``<1ms``."""
    millis = int(round(seconds * 1000.0, 6))  # 0.0005 s and less: under a millisecond
    if millis <= 0:
        return "<1ms" if seconds > 0 else "0s"
    text = []
    for symbol, length in _UNITS:
        if millis >= length:
            text.append("%d%s" % (millis // length, symbol))
            millis %= length
    return "".join(text)
