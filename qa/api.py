"""The HTTP API (FastAPI) and the static web page. Routes stay thin: they check the caller and the input,
call one `QAService` method, and shape the reply. Contract: DESIGN.md ("HTTP").

- `create_app(settings, service=None)`: the app; a loaded service may be injected (tests), otherwise it is
  loaded once at start-up (lifespan). Without an index the app still starts: /readyz says why it is not
  ready and an admin can build the index with POST /v1/index/refresh.
- Answers are generated in a bounded worker pool (`qa.server.GenerationPool`); search, document and
  feedback routes run in the ordinary threadpool, so they stay fast while answers are generated.
- Every error is JSON `{"detail": message}`; caller mistakes are 4xx, never 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import time
import unicodedata
import uuid
import zipfile
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from sse_starlette import EventSourceResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from .admission import AdmissionGate
from .auth import Caller, KeyRing, at_least, hash_key, identify, presented_key
from .config import Settings, get_settings
from .datatypes import Answer
from .documents import CATALOG_NAME, SUPPORTED_SUFFIXES
from .embed import EmbedError
from .feedback import FeedbackError, FeedbackStore
from .generate import GeneratorError
from .index import IndexUnavailable
from .metrics import Metrics, MetricsMiddleware
from .server import AnswerTimeout, GenerationPool, IndexJobs, JobRunning, PoolFull, ShuttingDown, log_event
from .service import InputError, QAService
from .index_watch import IndexWatch
from .store import Store, StoreError, StoreUnavailable, open_store
from .conversation_store import open_conversations
from .routes import chat, conversations

log = logging.getLogger("qa.api")

WEB_DIR = Path(__file__).parent / "web"
UPLOAD_OVERHEAD_BYTES = 64 * 1024  # multipart framing around an uploaded file
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


# ---------------------------------------------------------------- request and reply bodies


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="An earlier question of the member.")
    answer: str = Field("", max_length=50_000, description="The answer text it got.")
    language: Literal["nl", "fr"] | None = Field(None, description="Its language; default: detected.")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "examples": [{"question": "Ai-je droit à une indemnité de télétravail ?"},
                     {"question": "Mag mijn baas mij 's avonds nog mailen?", "mode": "helpdesk", "stream": True}]})

    question: str = Field(description="The member's question, in Dutch or French.")
    mode: Literal["member", "helpdesk"] = Field("member", description="`helpdesk` drafts a longer reply "
                                                "(needs a helpdesk or admin key when keys are configured).")
    language: Literal["nl", "fr"] | None = Field(None, description="Answer language; default: the question's.")
    generator: Literal["embedded", "ollama", "extractive"] | None = Field(
        None, description="Answer generator; default QA_GENERATOR.")
    k: int | None = Field(None, description="Passages given to the generator (default QA_TOP_K).")
    stream: bool = Field(False, description="Reply as Server-Sent Events: `draft` events "
                         '(`{"text": piece}`) while generating, then one `final` event with the answer JSON '
                         '(or an `error` event with `{"detail", "status"}`).')
    conversation_id: str | None = Field(None, max_length=64, description="Continue this conversation (its id "
                                        "came with an earlier answer): the question is read as a follow-up.")
    history: list[HistoryTurn] | None = Field(None, max_length=1000, description="Or the earlier turns, oldest "
                                              "first (beyond QA_MAX_HISTORY_TURNS the oldest are dropped).")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="The question to find passages for.")
    k: int | None = Field(None, description="Number of passages (default QA_TOP_K).")


class CitationRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    n: int
    doc: str = Field(max_length=1000)
    chunk_id: str = Field(max_length=1100)


class AnswerRef(BaseModel):
    """The answer JSON as /v1/ask returned it; only the fields feedback keeps are read."""

    model_config = ConfigDict(extra="ignore")

    answer: str = Field(max_length=50_000)
    language: str | None = Field(None, max_length=8)
    abstained: bool | None = None
    citations: list[CitationRef] = Field(default_factory=list, max_length=100)
    mode: str | None = Field(None, max_length=16)
    generator: str | None = Field(None, max_length=16)
    answer_id: str | None = Field(None, max_length=64)


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    answer_id: str | None = Field(None, max_length=64, description="`answer_id` of a recent /v1/ask reply.")
    answer: AnswerRef | None = Field(None, description="Or the answer JSON itself.")
    question: str | None = Field(None, description="The question; stored only when `consent` is true.")
    consent: bool = Field(False, description="The member agrees that their question is stored with the feedback.")
    vote: Literal["up", "down"]
    comment: str | None = Field(None, max_length=4000)


class ErrorOut(BaseModel):
    detail: str


def _errors(*codes: int) -> dict:
    return {code: {"model": ErrorOut} for code in codes}


# ---------------------------------------------------------------- uploads


class UploadRejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


_TEXT_SUFFIXES = (".txt", ".md", ".markdown")
_HTML_SUFFIXES = (".html", ".htm")
_HTML_START = re.compile(rb"<(!doctype\s+html|html|head|body|title|meta|p|div|h[1-6]|article|main|section)[\s>/]",
                         re.IGNORECASE)
MAX_NAME_CHARS = 150


def sanitise_filename(name: str | None) -> str:
    """A safe file name for the documents folder: no folders, no leading dots, no control characters."""
    original = name or ""
    name = unicodedata.normalize("NFC", original).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)
    name = re.sub(r"[^\w.\-() ]+", "_", name)
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"\.{2,}", ".", name).strip().lstrip(".-_ ")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        raise UploadRejected(415, f"the file name {original!r} has no supported extension; "
                                  f"use one of {', '.join(SUPPORTED_SUFFIXES)}")
    suffix = "." + suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadRejected(415, f"unsupported file type {suffix}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    stem = stem[:MAX_NAME_CHARS].rstrip(". ")
    if not stem or f"{stem}{suffix}" == CATALOG_NAME:
        raise UploadRejected(400, f"{original!r} cannot be used as a document name")
    return f"{stem}{suffix}"


def check_content(data: bytes, suffix: str) -> None:
    """The bytes must really be what the extension says (the extension alone proves nothing)."""
    if not data.strip():
        raise UploadRejected(400, "the file is empty")
    if suffix == ".pdf":
        if not data.lstrip()[:5] == b"%PDF-":
            raise UploadRejected(415, "the file is named .pdf but is not a PDF (no %PDF- header)")
        return
    if suffix == ".docx":
        try:
            with zipfile.ZipFile(BytesIO(data)) as z:
                ok = "word/document.xml" in z.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            ok = False
        if not ok:
            raise UploadRejected(415, "the file is named .docx but is not a Word document "
                                      "(not a zip with word/document.xml)")
        return
    if b"\x00" in data:
        raise UploadRejected(415, f"the file is named {suffix} but holds binary data, not text")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRejected(415, f"the file is named {suffix} but is not UTF-8 text; save it as UTF-8") from None
    if suffix in _HTML_SUFFIXES and not _HTML_START.search(data[:8192]):
        raise UploadRejected(415, f"the file is named {suffix} but does not look like HTML")


def inside(folder: Path, relative: str) -> Path | None:
    """`folder/relative` for a plain relative name (no `..`, no hidden parts) that stays inside `folder`."""
    parts = relative.split("/")
    if not relative or relative.startswith("/") or any(not p or p.startswith(".") for p in parts):
        return None
    root = folder.resolve()
    target = (root / relative).resolve()
    return target if target != root and target.is_relative_to(root) else None


# ---------------------------------------------------------------- application state


@dataclass
class AppState:
    settings: Settings
    service: QAService | None
    index_dir: Path
    keys: KeyRing
    pool: GenerationPool
    feedback: FeedbackStore
    store: Store  # feedback, the answers it refers to by answer_id, conversations: shared by replicas
    jobs: IndexJobs = field(default_factory=IndexJobs)
    load_error: str | None = None
    generator_state: str = "not loaded"
    metrics: Metrics | None = None
    conversations: Any = None  # qa.conversation_store.ConversationStore

    def __post_init__(self) -> None:
        if self.metrics is None:
            self.metrics = Metrics(self)

    # ------------------------------------------------------------ start-up

    def start(self) -> None:
        """Load the index and the embedder once, warm them up, and start loading the generator."""
        if self.service is None:
            try:
                self.service = QAService.load(self.settings, self.index_dir)
            except (IndexUnavailable, EmbedError) as exc:
                self.load_error = str(exc)
                log_event(log, "not_ready", logging.ERROR, reason=self.load_error)
                return
        self._warm_up(self.service)
        name = self.settings.generator
        if name != "extractive" and self.settings.preload_generator:
            self.generator_state = "loading"
            try:
                self.pool.submit(self._load_generator, self.service, name)
            except PoolFull:  # cannot happen on a fresh pool; the first question loads it instead
                self.generator_state = "not loaded"
        elif name == "extractive":
            self.generator_state = "ready"

    @staticmethod
    def _warm_up(service: QAService) -> None:
        """The first search loads the language detector and the embedder's weights: do it now."""
        try:
            service.search("Heb ik recht op thuiswerk? Ai-je droit au télétravail ?", k=1)
        except Exception as exc:  # a failed warm-up only makes the first request slower
            log_event(log, "warm_up_failed", logging.WARNING, error=str(exc))

    def _load_generator(self, service: QAService, name: str) -> None:
        try:
            generator = service.generator(name)
            if generator is not None:
                generator.check()
            self.generator_state = "ready"
        except Exception as exc:
            self.generator_state = f"unavailable: {exc}"
            log_event(log, "generator_unavailable", logging.WARNING, generator=name, error=str(exc))

    # ------------------------------------------------------------ helpers for routes

    def ready_service(self) -> QAService:
        if self.service is None:
            raise HTTPException(503, f"the service is not ready: {self.load_error or 'still loading'}. An admin "
                                     "can build the index with POST /v1/index/refresh or `qa ingest`.")
        return self.service

    def remember(self, answer: Answer) -> dict:
        """The answer JSON with its `answer_id`, kept in the store so feedback through any replica can name it."""
        payload = answer.to_json()
        payload["answer_id"] = uuid.uuid4().hex
        try:
            self.store.answers.add(payload["answer_id"], payload, self.settings.answer_ttl_s)
        except StoreError as exc:  # the member still gets the answer; feedback can send the answer JSON instead
            log_event(log, "answer_not_kept", logging.WARNING, error=str(exc))
        return payload

    def recent(self, answer_id: str) -> dict | None:
        return self.store.answers.get(answer_id)

    # ------------------------------------------------------------ index jobs

    def build(self, progress) -> dict:
        from .embed import configured_embedder
        from .ingest import ingest

        settings = self.settings
        folder = Path(settings.corpus_dir)
        if not folder.is_dir():
            raise IndexUnavailable(f"the documents folder {folder} does not exist (QA_CORPUS_DIR)")
        embedder = (self.service.embedder if self.service is not None else
                    configured_embedder(settings))
        report = ingest(folder, self.index_dir, settings, lambda: embedder, progress=progress)
        out = dict(report.__dict__)
        out["skipped"] = [{"doc": d, "reason": r} for d, r in report.skipped]
        return out

    def swap_in(self) -> None:
        if self.service is None:
            service = QAService.load(self.settings, self.index_dir)
            self._warm_up(service)
            self.service, self.load_error = service, None
        else:
            self.service.reload_index()


# ---------------------------------------------------------------- errors


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


def _rid(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def install_error_handlers(app: FastAPI, state: AppState) -> None:
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
                            headers={"Retry-After": str(state.settings.retry_after_s)})

    for kind in (InputError, GeneratorError, IndexUnavailable, EmbedError, FeedbackError, StoreUnavailable, JobRunning,
                 UploadRejected):
        @app.exception_handler(kind)
        async def known_error(request: Request, exc: Exception):
            status, message, headers = error_reply(exc)
            return JSONResponse({"detail": message}, status_code=status, headers=headers)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.error(json.dumps({"event": "internal_error", "request_id": _rid(request), "error": repr(exc)}),
                  exc_info=exc)
        return JSONResponse({"detail": f"internal error (request id {_rid(request)})"}, status_code=500)


# ---------------------------------------------------------------- middleware


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


def create_app(settings: Settings | None = None, service: QAService | None = None) -> FastAPI:
    settings = settings or get_settings()
    keys = KeyRing(settings.api_keys)
    if settings.member_key_required and not keys.configured:
        raise ValueError("QA_MEMBER_KEY_REQUIRED is set but QA_API_KEYS is empty: nobody could ask")
    store = open_store(settings)
    state = AppState(settings=settings, service=service,
                     index_dir=Path(service.index_dir if service is not None else settings.index_dir),
                     keys=keys, pool=GenerationPool(settings.generation_workers, settings.generation_queue),
                     feedback=FeedbackStore(store), store=store)
    # Another replica (or `qa ingest`) may swap the shared index's `current` link: polled, off the request path.
    watch = IndexWatch(state.index_dir, lambda: state.service, state.swap_in, settings.index_poll_s,
                       busy=lambda: state.jobs.running)
    state.conversations = open_conversations(settings, getattr(state, "store", None))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(state.start)
        watch.start()
        log_event(log, "started", ready=state.service is not None, generator=settings.generator,
                  workers=settings.generation_workers, queue=settings.generation_queue)
        try:
            yield
        finally:
            # uvicorn has already given requests in flight QA_SHUTDOWN_TIMEOUT_S; stop what still generates.
            watch.stop()
            closed = await run_in_threadpool(state.pool.close, settings.shutdown_timeout_s)
            log_event(log, "stopped", **closed)

    app = FastAPI(title="qa: cited answers for union members", version=__version__, lifespan=lifespan,
                  description="Questions in Dutch or French about members' rights and the union's positions on "
                              "digitalisation; answers cite numbered passages of the union's documents, or say "
                              "plainly that the documents do not answer. Errors are `{\"detail\": message}`.")
    app.state.qa = state
    # Redis (QA_RATE_LIMIT_STORAGE) shares the counters between replicas; while it is unreachable or silent each
    # replica counts in its own memory rather than failing or holding requests.
    shared = not settings.rate_limit_storage.startswith("memory://")
    limiter = Limiter(key_func=_rate_key, headers_enabled=False, storage_uri=settings.rate_limit_storage,
                      in_memory_fallback_enabled=shared,
                      storage_options={"socket_connect_timeout": 2, "socket_timeout": 2} if shared else {})
    app.state.limiter = limiter
    limited = limiter.shared_limit(settings.rate_limit, scope="api")
    install_error_handlers(app, state)
    # searches in progress, waiting for the embedder included, are bounded before anything else is done
    app.add_middleware(AdmissionGate, path="/v1/search", capacity=settings.search_queue,
                       retry_after_s=settings.search_retry_after_s, setting="QA_SEARCH_QUEUE")
    app.add_middleware(RequestContext, settings=settings)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)  # outermost: sees RequestContext's 413s too

    # ------------------------------------------------------------ callers

    bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer API_KEY")
    api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: API_KEY")

    def caller(request: Request, _bearer=Depends(bearer), _key=Depends(api_key_header)) -> Caller:
        who = identify(keys, request.headers, settings.member_key_required)
        if who is None:
            raise HTTPException(401, "the API key is not valid", headers={"WWW-Authenticate": "Bearer"})
        request.state.key_id = who.key_id
        return who

    def needs(role: str):
        def check(who: Caller = Depends(caller)) -> Caller:
            if at_least(who.role, role):
                return who
            if role != "member" and not keys.configured:
                raise HTTPException(403, f"this route needs a {role} API key and none are configured (QA_API_KEYS)")
            if who.anonymous:
                raise HTTPException(401, f"this route needs an API key ({role} role)",
                                    headers={"WWW-Authenticate": "Bearer"})
            raise HTTPException(403, f"this route needs the {role} role; your key has the {who.role} role")
        return check

    member, helpdesk, admin = needs("member"), needs("helpdesk"), needs("admin")

    def json_body(request: Request) -> None:
        ctype = request.headers.get("content-type")
        if ctype is None:
            return  # parsed as JSON anyway
        media = ctype.split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise HTTPException(415, f"send the request body as JSON (Content-Type: application/json), not {media}")

    app.include_router(conversations.router(state, member=member, limited=limited))
    chat.install(app, state, member=member, helpdesk=helpdesk, limited=limited)

    # ------------------------------------------------------------ answers

    @app.post("/v1/ask", tags=["answers"], responses={
        200: {"description": "The answer JSON (`qa ask --json`) plus `answer_id`; with `stream`, "
                             "`text/event-stream`.", "content": {"text/event-stream": {}}},
        **_errors(401, 403, 415, 422, 429, 503)})
    @limited
    async def ask(request: Request, body: AskRequest, who: Caller = Depends(member), _j=Depends(json_body)):
        """Answer a question with numbered citations, or say the documents do not answer it."""
        service = state.ready_service()
        if body.mode == "helpdesk" and keys.configured and not at_least(who.role, "helpdesk"):
            raise HTTPException(403, "helpdesk mode needs a helpdesk or admin API key")
        question = service.check_question(body.question)  # checked here too: a stream must fail before it starts
        service.check_k(body.k)
        generator = body.generator or settings.generator
        thread = await run_in_threadpool(conversations.thread_for, state.conversations, settings, body.conversation_id,
                                         None if body.history is None else [h.model_dump() for h in body.history])
        options = dict(mode=body.mode, language=body.language, generator=generator, k=body.k, history=thread.history)

        def record(payload: dict) -> None:  # the turn is stored and the answer names its conversation
            payload["conversation_id"] = conversations.record(state.conversations, settings, thread, question, payload)

        if body.stream:
            return _stream_answer(request, state, question, options, after=record)
        started = time.perf_counter()
        deadline = time.monotonic() + settings.answer_timeout_s
        too_slow = (f"the answer took longer than {settings.answer_timeout_s:g} s (all answer workers are busy or "
                    "slow); try again shortly")

        def checkpoint(piece: str = "") -> None:  # between tokens: stop on shutdown or past the deadline
            state.pool.checkpoint(piece)
            if time.monotonic() > deadline:
                raise AnswerTimeout(too_slow)

        future = state.pool.submit(service.ask, question, on_token=checkpoint, **options)
        try:
            answer = await asyncio.wait_for(asyncio.wrap_future(future), settings.answer_timeout_s)
        except asyncio.TimeoutError:  # waiting: never starts; generating: stops at its next token
            future.cancel()
            raise AnswerTimeout(too_slow) from None
        except asyncio.CancelledError:  # uvicorn's graceful-shutdown timeout ran out: a clean 503, not a 500
            future.cancel()
            raise ShuttingDown("the service is restarting and the answer was not finished; ask again "
                               "in a moment") from None
        payload = await run_in_threadpool(state.remember, answer)
        await run_in_threadpool(record, payload)
        state.metrics.observe_answer(answer)
        _log_answer(request, state, question, options, payload, started, stream=False)
        return payload

    @app.post("/v1/search", tags=["answers"], responses=_errors(401, 415, 422, 429, 503))
    @limited
    async def search(request: Request, body: SearchRequest, who: Caller = Depends(member), _j=Depends(json_body)):
        """The passages that best answer the question (`qa search --json`), without generating an answer."""
        service = state.ready_service()
        started = time.perf_counter()
        hits = await run_in_threadpool(service.search, body.question, body.k)
        state.metrics.observe_search(time.perf_counter() - started)
        return {"hits": [h.to_json() for h in hits]}

    # ------------------------------------------------------------ documents

    @app.get("/v1/documents", tags=["documents"], responses=_errors(401, 429, 503))
    @limited
    def documents(request: Request, who: Caller = Depends(member)):
        """The indexed documents."""
        service = state.ready_service()
        manifest = service.index.manifest
        return {"documents": [_document_json(d) for d in sorted(service.documents(), key=lambda d: d.doc)],
                "index": {"build_id": manifest.build_id, "built_at": manifest.built_at,
                          "embed_model": manifest.embed_model, "chunk_count": manifest.chunk_count}}

    @app.get("/v1/documents/{doc:path}/chunks/{chunk_id}", tags=["documents"], responses=_errors(401, 404, 429, 503))
    @limited
    def chunk(request: Request, doc: str, chunk_id: str, who: Caller = Depends(member)):
        """One passage, to open a citation: its text, document title, publisher and page.

        `chunk_id` is the full id (`doc#hash`, with `#` sent as `%23`) or just its hash part."""
        service = state.ready_service()
        info = service.index.documents.get(doc)
        if info is None:
            raise HTTPException(404, f"unknown document {doc!r}")
        found = service.chunk(doc, chunk_id) or service.chunk(doc, f"{doc}#{chunk_id}")
        if found is None:
            raise HTTPException(404, f"document {doc!r} has no passage {chunk_id!r}")
        return {**found.to_dict(), "publisher": info.publisher, "date": info.date}

    @app.get("/v1/documents/{doc:path}", tags=["documents"], responses=_errors(401, 404, 429, 503))
    @limited
    def document(request: Request, doc: str, who: Caller = Depends(member)):
        """One indexed document's catalog entry."""
        info = state.ready_service().index.documents.get(doc)
        if info is None:
            raise HTTPException(404, f"unknown document {doc!r}")
        return _document_json(info)

    # ------------------------------------------------------------ admin

    @app.post("/v1/documents", tags=["admin"], status_code=202, responses=_errors(400, 401, 403, 409, 413, 415),
              openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                  "type": "object", "required": ["file"],
                  "properties": {"file": {"type": "string", "format": "binary"}}}}}}})
    @limited
    async def upload(request: Request, who: Caller = Depends(admin)):
        """Add or replace a document (PDF, DOCX, UTF-8 text/Markdown, HTML) in the documents folder, then
        re-index in the background (unchanged files are not re-embedded). Follow GET /v1/index/status."""
        media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if media != "multipart/form-data":
            raise HTTPException(415, "upload the document as multipart/form-data in a field named 'file'")
        try:
            form = await request.form(max_files=1, max_fields=5)
        except HTTPException:
            raise
        except Exception as exc:
            raise HTTPException(400, f"the multipart body cannot be read ({exc})") from None
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, "send the document in a multipart field named 'file'")
        name = sanitise_filename(upload.filename)
        data = await upload.read()
        await form.close()
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, f"the file is {len(data) / 1048576:.1f} MB; the limit is "
                                     f"{settings.max_upload_bytes / 1048576:.1f} MB (QA_MAX_UPLOAD_BYTES)")
        check_content(data, "." + name.rpartition(".")[2].lower())
        folder = Path(settings.corpus_dir)
        target = inside(folder, name)
        if target is None:
            raise UploadRejected(400, f"{name!r} cannot be used as a document name")
        state.jobs.reserve("upload", name)
        try:
            replaced = await run_in_threadpool(_store_file, folder, target, data)
        except BaseException:
            state.jobs.release()
            raise
        state.jobs.start(state.build, state.swap_in)
        log_event(log, "document_uploaded", request_id=_rid(request), doc=name, bytes=len(data), replaced=replaced,
                  key=who.key_id)
        return {"doc": name, "bytes": len(data), "replaced": replaced, "job": state.jobs.status.to_json()}

    @app.delete("/v1/documents/{doc:path}", tags=["admin"], status_code=202, responses=_errors(401, 403, 404, 409))
    @limited
    def delete_document(request: Request, doc: str, who: Caller = Depends(admin)):
        """Remove a document from the documents folder, then re-index in the background."""
        folder = Path(settings.corpus_dir)
        target = inside(folder, doc)
        if (target is None or not target.is_file() or target.name.startswith(".")
                or target.suffix.lower() not in SUPPORTED_SUFFIXES or target.name == CATALOG_NAME):
            raise HTTPException(404, f"no document {doc!r} in the documents folder")
        state.jobs.reserve("delete", doc)
        try:
            target.unlink()
        except BaseException:
            state.jobs.release()
            raise
        state.jobs.start(state.build, state.swap_in)
        log_event(log, "document_deleted", request_id=_rid(request), doc=doc, key=who.key_id)
        return {"doc": doc, "deleted": True, "job": state.jobs.status.to_json()}

    @app.post("/v1/index/refresh", tags=["admin"], status_code=202, responses=_errors(401, 403, 409))
    @limited
    def refresh(request: Request, who: Caller = Depends(admin)):
        """Re-index the documents folder in the background (changed files only) and swap the new index in."""
        state.jobs.run("refresh", state.build, state.swap_in)
        log_event(log, "index_refresh", request_id=_rid(request), key=who.key_id)
        return {"job": state.jobs.status.to_json()}

    @app.get("/v1/index/status", tags=["admin"], responses=_errors(401, 403))
    @limited
    def index_status(request: Request, who: Caller = Depends(admin)):
        """The current or last index job (state idle|running|done|failed, progress) and the index in service."""
        service = state.service
        current = None
        if service is not None:
            m = service.index.manifest
            current = {"build_id": m.build_id, "built_at": m.built_at, "chunk_count": m.chunk_count,
                       "documents": len(service.index.documents), "embed_model": m.embed_model}
        return {"job": state.jobs.status.to_json(), "index": current, "load_error": state.load_error}

    # ------------------------------------------------------------ feedback

    @app.post("/v1/feedback", tags=["feedback"], status_code=201, responses=_errors(401, 404, 415, 422, 429))
    @limited
    def post_feedback(request: Request, body: FeedbackRequest, who: Caller = Depends(member), _j=Depends(json_body)):
        """Thumbs up/down and an optional comment on an answer. The question is stored only with `consent`."""
        answer = state.recent(body.answer_id) if body.answer_id else None
        if answer is None and body.answer is not None:
            answer = body.answer.model_dump()
        if answer is None:
            if body.answer_id:
                raise HTTPException(404, f"answer {body.answer_id!r} is unknown or expired; send the answer JSON "
                                         "in 'answer' instead")
            raise HTTPException(422, "send 'answer_id' or the answer JSON in 'answer'")
        if body.question is not None and len(body.question) > settings.max_question_chars:
            raise HTTPException(422, f"question: longer than {settings.max_question_chars} characters")
        feedback_id = state.feedback.add(vote=body.vote, answer=answer, consent=body.consent, question=body.question,
                                         comment=body.comment, answer_id=body.answer_id or answer.get("answer_id"))
        log_event(log, "feedback", request_id=_rid(request), feedback_id=feedback_id, vote=body.vote,
                  consent=body.consent)
        return {"id": feedback_id, "question_stored": bool(body.consent and body.question and body.question.strip())}

    @app.get("/v1/feedback", tags=["feedback"], responses=_errors(401, 403, 422, 429))
    @limited
    def get_feedback(request: Request, who: Caller = Depends(helpdesk),
                     vote: Literal["up", "down"] | None = Query(None),
                     limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=2**62)):
        """Stored feedback, newest first (helpdesk and admin)."""
        return {"total": state.feedback.count(vote),
                "feedback": [r.to_json() for r in state.feedback.list(vote=vote, limit=limit, offset=offset)]}

    # ------------------------------------------------------------ health

    @app.get("/healthz", tags=["health"])
    def healthz():
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses=_errors(503))
    def readyz():
        """Index and embedder loaded (503 otherwise); the generator's state is reported, not required."""
        service = state.service
        if service is None:
            return JSONResponse({"detail": f"not ready: {state.load_error or 'loading'}"}, status_code=503)
        m = service.index.manifest
        return {"status": "ready", "index": {"build_id": m.build_id, "chunk_count": m.chunk_count},
                "embedder": service.embedder.name,
                "generator": {"name": settings.generator, "state": state.generator_state},
                "answers": {"in_flight": state.pool.in_flight, "capacity": state.pool.capacity}}

    if settings.metrics_enabled:
        @app.get("/metrics", tags=["health"], response_class=Response,
                 responses={200: {"content": {"text/plain": {}}}})
        def metrics():
            """Prometheus metrics: requests by route and status, answer stage latencies, abstentions,
            verification failures, index size and age (counts and timings only, nothing personal)."""
            body, media_type = state.metrics.render()
            return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------ web page

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app


# ---------------------------------------------------------------- route helpers


def _rate_key(request: Request) -> str:
    key = presented_key(request.headers)
    if key:
        return "key:" + hash_key(key)[:16]
    return "ip:" + (request.client.host if request.client else "unknown")


def _document_json(info) -> dict:
    return {"doc": info.doc, "title": info.title, "publisher": info.publisher, "date": info.date,
            "languages": info.languages, "chunk_count": info.chunk_count, "indexed_at": info.indexed_at}


def _store_file(folder: Path, target: Path, data: bytes) -> bool:
    """Write atomically (temporary hidden file, then rename): a build never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    replaced = target.exists()
    tmp = target.parent / f".upload-{uuid.uuid4().hex}"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return replaced


def _log_answer(request: Request, state: AppState, question: str, options: dict, payload: dict, started: float,
                stream: bool) -> None:
    fields: dict[str, Any] = dict(request_id=_rid(request), mode=options["mode"], generator=options["generator"],
                                  language=payload.get("language"), abstained=payload.get("abstained"),
                                  citations=len(payload.get("citations", [])), stream=stream,
                                  question_chars=len(question), timings_ms=payload.get("timings_ms"),
                                  ms=round((time.perf_counter() - started) * 1000, 1), key=request.state.key_id
                                  if hasattr(request.state, "key_id") else None)
    if state.settings.log_questions:
        fields["question"] = question
    log_event(log, "answer", **fields)


class _StreamCancelled(Exception):
    """The client went away: stop generating."""


def _stream_answer(request: Request, state: AppState, question: str, options: dict,
                   after=None) -> EventSourceResponse:
    """Start generating (or answer 503 now if the pool is full) and stream draft pieces, then the final answer."""
    service = state.ready_service()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    cancelled = threading.Event()
    started = time.perf_counter()
    limit = state.settings.answer_timeout_s
    deadline = time.monotonic() + limit
    too_slow = f"the answer took longer than {limit:g} s (all answer workers are busy or slow); try again shortly"

    def on_token(piece: str) -> None:
        if cancelled.is_set():
            raise _StreamCancelled()
        state.pool.checkpoint()  # the service is stopping: end the generation
        if time.monotonic() > deadline:
            raise AnswerTimeout(too_slow)
        try:
            loop.call_soon_threadsafe(queue.put_nowait, piece)
        except RuntimeError:  # the event loop is gone
            cancelled.set()
            raise _StreamCancelled() from None

    def wake(_future) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, None)
        except RuntimeError:
            pass

    future = state.pool.submit(service.ask, question, on_token=on_token, **options)  # PoolFull: 503 before streaming
    future.add_done_callback(wake)

    async def events():
        try:
            while True:
                try:  # a stream has the same deadline as a plain answer, waiting for a worker included
                    piece = await asyncio.wait_for(queue.get(), max(0.0, deadline - time.monotonic()) + 1.0)
                except asyncio.TimeoutError:
                    yield {"event": "error", "data": json.dumps({"detail": too_slow, "status": 503})}
                    return
                if piece is None:
                    break
                yield {"event": "draft", "data": json.dumps({"text": piece}, ensure_ascii=False)}
            try:
                answer = future.result()
            except Exception as exc:
                status, message, _ = error_reply(exc)
                if status == 500:
                    log.error(json.dumps({"event": "internal_error", "request_id": _rid(request),
                                          "error": repr(exc)}), exc_info=exc)
                    message = f"internal error (request id {_rid(request)})"
                yield {"event": "error", "data": json.dumps({"detail": message, "status": status}, ensure_ascii=False)}
                return
            payload = await run_in_threadpool(state.remember, answer)
            if after is not None:
                await run_in_threadpool(after, payload)
            state.metrics.observe_answer(answer)
            _log_answer(request, state, question, options, payload, started, stream=True)
            yield {"event": "final", "data": json.dumps(payload, ensure_ascii=False)}
        finally:
            cancelled.set()
            future.cancel()  # still waiting for a worker: never start

    return EventSourceResponse(events(), ping=15, send_timeout=60,
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
