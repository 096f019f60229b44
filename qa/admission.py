"""A bound on requests in progress that refuses at once instead of queueing without end.

A closed loop of 50 searchers on two cores used to wait ~5 s each for the embedder (bench/README.md): every
request was accepted and waited its turn. With a bound, a request that finds `capacity` others in progress
is refused straight away (the API answers 503 with Retry-After), so the ones accepted stay fast and a
client learns within milliseconds that it should come back, rather than after seconds.
"""

from __future__ import annotations

import threading


class Admission:
    """At most `capacity` holders at a time; `enter` never blocks."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enter(self) -> bool:
        """Take a place if one is free; False (and nothing taken) when all are."""
        with self._lock:
            if self._in_flight >= self.capacity:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            if self._in_flight <= 0:
                raise RuntimeError("leave() without enter()")
            self._in_flight -= 1
