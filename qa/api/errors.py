"""Every error a request may end in, as JSON `{"detail": message}`: caller mistakes are 4xx, never 500."""

from __future__ import annotations

import json
import logging
import time

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from slowapi.errors import RateLimitExceeded
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..embed import EmbedError
from ..feedback import FeedbackError
from ..generate import GeneratorError
from ..index import IndexUnavailable
from ..service import InputError
from ..store import StoreUnavailable
from .runtime import JobRunning, PoolFull
from .uploads import UploadRejected

log = logging.getLogger("qa.api")


def error_reply(exc: Exception) -> tuple[int, str, dict[str, str]]:
    """(status, message, headers) for the exceptions a request may end in."""
    if isinstance(exc, InputError):
        return 422, str(exc), {}
    if isinstance(exc, PoolFull):
        return 503, str(exc), {}
    if isinstance(exc, GeneratorError):
        return 503, f"the answer generator is unavailable: {exc}", {}
    if isinstance(exc, (IndexUnavailable, EmbedError)):
        return 503, str(exc), {}
    if isinstance(exc, FeedbackError):
        return 422, str(exc), {}
    if isinstance(exc, StoreUnavailable):
        return 503, str(exc), {}
    if isinstance(exc, JobRunning):
        return 409, str(exc), {}
    if isinstance(exc, UploadRejected):
        return exc.status, str(exc), {}
    return 500, "internal error", {}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        if err.get("type") == "json_invalid":
            return f"the request body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})"
        if not loc and err.get("type") == "missing":
            return "the request body is missing: send a JSON object"
        where = ".".join(loc) or "body"
        msg = err.get("msg", "invalid")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts) or "invalid request"


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def install_error_handlers(app: FastAPI, retry_after_s: int) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(RateLimitExceeded)
    async def rate_limited(request: Request, exc: RateLimitExceeded):
        retry = 60
        current = getattr(request.state, "view_rate_limit", None)
        if current is not None:
            try:
                reset, _remaining = app.state.limiter.limiter.get_window_stats(current[0], *current[1])
                retry = max(1, int(reset - time.time()) + 1)
            except Exception:
                pass
        return JSONResponse({"detail": f"too many requests (limit {exc.detail}); retry in {retry} s"},
                            status_code=429, headers={"Retry-After": str(retry)})

    @app.exception_handler(PoolFull)
    async def pool_full(request: Request, exc: PoolFull):
        return JSONResponse({"detail": str(exc)}, status_code=503,
                            headers={"Retry-After": str(retry_after_s)})

    for kind in (InputError, GeneratorError, IndexUnavailable, EmbedError, FeedbackError, StoreUnavailable, JobRunning,
                 UploadRejected):
        @app.exception_handler(kind)
        async def known_error(request: Request, exc: Exception):
            status, message, headers = error_reply(exc)
            return JSONResponse({"detail": message}, status_code=status, headers=headers)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.error(json.dumps({"event": "internal_error", "request_id": request_id(request), "error": repr(exc)}),
                  exc_info=exc)
        return JSONResponse({"detail": f"internal error (request id {request_id(request)})"}, status_code=500)


# ---------------------------------------------------------------- middleware
