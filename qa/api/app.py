"""`create_app`: the FastAPI app put together: state, middleware, error handlers, the routers and the web page.

A loaded service may be injected (tests); otherwise it is loaded once at start-up (lifespan). Without an index
the app still starts: /readyz says why it is not ready and an admin can build the index with
POST /v1/index/refresh.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..config import Settings, get_settings
from ..feedback import FeedbackStore
from ..index.swap import IndexWatch
from ..logs import log_event
from ..service import QAService
from ..store import open_conversations, open_store
from . import admin, answers, chat, conversations, documents, feedback, health
from .admission import AdmissionGate
from .auth import KeyRing
from .dependencies import make_deps, make_limiter
from .errors import install_error_handlers
from .metrics import MetricsMiddleware
from .middleware import RequestContext
from .runtime import GenerationPool
from .state import AppState

log = logging.getLogger("qa.api")

WEB_DIR = Path(__file__).parent.parent / "web"
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


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
    limiter = make_limiter(settings)
    app.state.limiter = limiter
    install_error_handlers(app, settings.retry_after_s)
    # searches in progress, waiting for the embedder included, are bounded before anything else is done
    app.add_middleware(AdmissionGate, path="/v1/search", capacity=settings.search_queue,
                       retry_after_s=settings.search_retry_after_s, max_wait_s=settings.search_max_wait_s)
    app.add_middleware(RequestContext, settings=settings)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)  # outermost: sees RequestContext's 413s too

    deps = make_deps(state, limiter)
    app.include_router(conversations.router(state, member=deps.member, limited=deps.limited))
    chat.install(app, state, member=deps.member, helpdesk=deps.helpdesk, limited=deps.limited)
    for resource in (answers, documents, admin, feedback, health):  # this order: the first matching path wins
        app.include_router(resource.router(deps))

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app
