"""A bound on searches in progress, by the wait they would have, that refuses at once instead of queueing.

A closed loop of 50 searchers on two cores used to wait 5-13 s each for the embedder (bench/README.md, "Load"):
every request was accepted and waited its turn. A fixed count of requests in progress (QA_SEARCH_QUEUE) bounds
that, but what a count means depends on the machine: 8 searches in progress wait ~1.5 s on two cores with
EmbeddingGemma, a few milliseconds with the light embedder or a GPU. What an operator sets, and what a member
notices, is the wait. So the bound follows Little's law (requests in progress = completion rate × time in
the system): the gate keeps an exponentially weighted rate of finished searches and refuses a request at once
(503 with Retry-After) when the searches already in progress are as many as that rate clears within
`max_wait_s` (QA_SEARCH_MAX_WAIT_S). A faster machine, a lighter embedder or larger batches raise the measured
rate and with it the bound; a machine slowed by other work lowers both.

- The rate is counted over time during which searches were in progress, not wall time: an idle server keeps
  the rate it last measured instead of forgetting it and refusing the first burst after a quiet night.
- A cold server, which has measured nothing yet, and a slow one still accept FLOOR searches at once, so that
  the rate can be measured and a single member is never refused.
- QA_SEARCH_QUEUE stays a hard ceiling on the count, whatever the rate (memory, threads, file handles).

`AdmissionGate` applies it to one route as ASGI middleware, before the request body is read, validated,
authenticated or rate-limited: refusals come in bursts (every client turned away retries after Retry-After),
and a refusal made inside the route would first pay for parsing, validation, authentication and rate
limiting: CPU that the searches being served then lack, on a machine whose cores the embedder already fills.
"""

from __future__ import annotations

import math
import threading
import time

from starlette.responses import JSONResponse

FLOOR = 4  # searches always accepted at once (up to the ceiling): a burst of 4 on two cores waits well under 1 s
RATE_TIME_S = 5.0  # time constant of the rate's weighting: several batches of the embedder under load


class Admission:
    """At most `capacity` holders at a time, and, past `floor`, no more than the recent completion rate clears
    within `max_wait_s` (None: the count alone). `enter` never blocks."""

    def __init__(self, capacity: int, max_wait_s: float | None = None, floor: int = FLOOR,
                 rate_time_s: float = RATE_TIME_S):
        if capacity < 1 or floor < 1:
            raise ValueError("capacity and floor must be at least 1")
        if max_wait_s is not None and max_wait_s <= 0:
            raise ValueError("max_wait_s must be positive")
        self.capacity, self.max_wait_s, self.floor, self.tau = capacity, max_wait_s, floor, rate_time_s
        self._in_flight = 0
        self._lock = threading.Lock()
        self._weight = 0.0  # completions, each weighted by exp(-busy time since it / tau)
        self._busy = 0.0  # seconds with at least one search in progress, since start
        self._last = time.monotonic()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _advance(self) -> None:
        """Move the busy clock to now: only time with searches in progress counts and decays the weight."""
        now = time.monotonic()
        if self._in_flight > 0:
            elapsed = now - self._last
            self._weight *= math.exp(-elapsed / self.tau)
            self._busy += elapsed
        self._last = now

    def _rate(self) -> float | None:
        """Searches finished per busy second, recent ones weighted most; None before any busy time."""
        if self._busy <= 0:
            return None
        # the divisor corrects for the weight starting at 0: early on this is completions / busy seconds
        return self._weight / (self.tau * -math.expm1(-self._busy / self.tau))

    def rate(self) -> float | None:
        with self._lock:
            self._advance()
            return self._rate()

    def limit(self) -> int:
        """How many may be in progress now."""
        with self._lock:
            self._advance()
            return self._limit()

    def _limit(self) -> int:
        if self.max_wait_s is None:
            return self.capacity
        rate = self._rate() or 0.0
        return min(self.capacity, max(self.floor, int(rate * self.max_wait_s)))

    def enter(self) -> bool:
        """Take a place if one is free; False (and nothing taken) when all are."""
        with self._lock:
            self._advance()
            if self._in_flight >= self._limit():
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            if self._in_flight <= 0:
                raise RuntimeError("leave() without enter()")
            self._advance()
            self._weight += 1.0
            self._in_flight -= 1


class AdmissionGate:
    """ASGI middleware: a POST `path` request that the gate's `Admission` has no place for gets 503 with
    Retry-After at once."""

    def __init__(self, app, path: str, capacity: int, retry_after_s: int, max_wait_s: float | None = None):
        self.app = app
        self.path = path.rstrip("/")
        self.admission = Admission(capacity, max_wait_s)
        bound = (f"a search now would wait more than {max_wait_s:g} s (QA_SEARCH_MAX_WAIT_S) or {capacity} are "
                 f"in progress (QA_SEARCH_QUEUE)") if max_wait_s else f"{capacity} searches are in progress (QA_SEARCH_QUEUE)"
        self.refusal = {"detail": f"busy: {bound}; try again in {retry_after_s} s"}
        self.headers = {"Retry-After": str(retry_after_s)}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            return await self.app(scope, receive, send)
        if not self.admission.enter():
            return await JSONResponse(self.refusal, status_code=503, headers=self.headers)(scope, receive, send)
        try:
            await self.app(scope, receive, send)
        finally:  # also when the client went away: its place is free although its embedding may still finish
            self.admission.leave()
