"""`RequestContext`: request ids, one JSON log line per request, body size limits and security headers."""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders

from ..config import Settings
from ..logs import log_event

log = logging.getLogger("qa.api")

UPLOAD_OVERHEAD_BYTES = 64 * 1024  # multipart framing around an uploaded file
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestContext:
    """Request id (`X-Request-ID`, echoed or made), one JSON log line per request, body size limits,
    and security headers. A plain ASGI middleware, so streamed replies pass through untouched."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings

    def _limit(self, scope) -> int:
        if scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/documents":
            return self.settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES
        return self.settings.max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = {"code": 0}
        limit = self._limit(scope)
        path = scope["path"]

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
            await send(message)

        try:
            declared = next((int(v) for k, v in scope["headers"] if k == b"content-length"), None)
        except ValueError:
            declared = None
        try:
            if declared is not None and declared > limit:
                response = JSONResponse({"detail": _too_large(limit, scope)}, status_code=413)
                return await response(scope, receive, send_with_headers)
            received = 0

            async def limited_receive():
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise HTTPException(413, _too_large(limit, scope))
                return message

            await self.app(scope, limited_receive, send_with_headers)
        finally:
            if not path.startswith("/static/"):
                log_event(log, "request", request_id=rid, method=scope["method"], path=path,
                          status=status["code"], ms=round((time.perf_counter() - started) * 1000, 1))


def _too_large(limit: int, scope) -> str:
    if scope["path"].rstrip("/") == "/v1/documents":
        limit -= UPLOAD_OVERHEAD_BYTES
        return f"the upload is larger than the limit of {limit / 1048576:.1f} MB (QA_MAX_UPLOAD_BYTES)"
    return f"the request body is larger than {limit} bytes"


# ---------------------------------------------------------------- the app
