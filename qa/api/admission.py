"""A bound on requests in progress that refuses at once instead of queueing without end.

A closed loop of 50 searchers on two cores used to wait ~5 s each for the embedder (bench/README.md): every
request was accepted and waited its turn. With a bound, a request that finds `capacity` others in progress
is refused straight away (the API answers 503 with Retry-After), so the ones accepted stay fast and a
client learns within milliseconds that it should come back, rather than after seconds.

`AdmissionGate` applies it to one route as ASGI middleware, before the request body is read, validated,
authenticated or rate-limited: refusals come in bursts (every client turned away retries after Retry-After),
and a refusal made inside the route would first pay for parsing, validation, authentication and rate
limiting: CPU that the searches being served then lack, on a machine whose cores the embedder already fills.
"""

from __future__ import annotations

import threading

from starlette.responses import JSONResponse


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


class AdmissionGate:
    """ASGI middleware: POST `path` requests beyond `capacity` in progress get 503 with Retry-After at once."""

    def __init__(self, app, path: str, capacity: int, retry_after_s: int, setting: str):
        self.app = app
        self.path = path.rstrip("/")
        self.admission = Admission(capacity)
        self.refusal = {"detail": f"{capacity} searches are already in progress ({setting}); "
                                  f"try again in {retry_after_s} s"}
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
