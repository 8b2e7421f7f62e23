"""Time, passed in: a clock that also sleeps (tests use a fake one), Retry-After, back-off."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Protocol

#: no wait is ever longer than this, whatever Retry-After says (some servers ask for 5 hours)
MAX_WAIT_SECONDS = 300.0


class Clock(Protocol):
    """Wall-clock seconds since the epoch, and a way to wait."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), capped.

    None when absent or unreadable; a date in the past waits 0 seconds.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_WAIT_SECONDS)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        return None
    return min(max(when.timestamp() - now, 0.0), MAX_WAIT_SECONDS)


@dataclass
class Backoff:
    """Exponential back-off: ``first``, doubling, capped at MAX_WAIT_SECONDS; counts failures."""

    first: float = 1.0
    failures: int = 0

    def next(self) -> float:
        self.failures += 1
        return min(self.first * 2.0 ** (self.failures - 1), MAX_WAIT_SECONDS)

    def reset(self) -> None:
        self.failures = 0
