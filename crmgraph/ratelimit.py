"""Failed token authentications per client address, in a sliding window.

In memory and per process: with several workers each counts on its own (so an address
gets at most ``limit * workers`` attempts per window), and a restart forgets. Enough to
make guessing tokens hopeless (they carry 256 random bits); a shared store would only
matter for limits meant to be exact.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class FailedAttempts:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self.max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.window > 0

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None if it may now."""
        if not self.enabled:
            return None
        failures = self._recent(address)
        if failures is None or len(failures) < self.limit:
            return None
        # The attempt that ends the block is the one that leaves the window first.
        oldest_counted = failures[-self.limit]
        return max(1, math.ceil(oldest_counted + self.window - self.clock()))

    def failed(self, address: str) -> None:
        if not self.enabled:
            return
        failures = self._recent(address)
        if failures is None:
            if len(self._failures) >= self.max_addresses:
                self._forget_stale()
            failures = self._failures[address] = deque(maxlen=self.limit)
        failures.append(self.clock())

    def _recent(self, address: str) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        start = self.clock() - self.window
        while failures and failures[0] <= start:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def _forget_stale(self) -> None:
        start = self.clock() - self.window
        self._failures = {a: f for a, f in self._failures.items() if f and f[-1] > start}
        if len(self._failures) >= self.max_addresses:
            # Flooded from very many addresses: forgetting beats growing without bound.
            self._failures.clear()
