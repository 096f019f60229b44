"""The answer routes: POST /v1/ask (plain or streamed as Server-Sent Events, with a deadline, and stopped when
the client goes away or the service stops) and POST /v1/search."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sse_starlette import EventSourceResponse

from ..logs import log_event
from . import conversations
from .auth import Caller, at_least
from .dependencies import Deps
from .errors import error_reply, request_id
from .runtime import AnswerTimeout, ShuttingDown
from .schemas import AskRequest, SearchRequest, errors
from .state import AppState

log = logging.getLogger("qa.api")


def router(deps: Deps) -> APIRouter:
    api = APIRouter()
    state, settings, keys, member, limited, json_body = deps.state, deps.settings, deps.keys, deps.member, deps.limited, deps.json_body

    @api.post("/v1/ask", tags=["answers"], responses={
        200: {"description": "The answer JSON (`qa ask --json`) plus `answer_id`; with `stream`, "
                             "`text/event-stream`.", "content": {"text/event-stream": {}}},
        **errors(401, 403, 415, 422, 429, 503)})
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

    @api.post("/v1/search", tags=["answers"], responses=errors(401, 415, 422, 429, 503))
    @limited
    async def search(request: Request, body: SearchRequest, who: Caller = Depends(member), _j=Depends(json_body)):
        """The passages that best answer the question (`qa search --json`), without generating an answer."""
        service = state.ready_service()
        started = time.perf_counter()
        hits = await run_in_threadpool(service.search, body.question, body.k)
        state.metrics.observe_search(time.perf_counter() - started)
        return {"hits": [h.to_json() for h in hits]}

    return api


def _log_answer(request: Request, state: AppState, question: str, options: dict, payload: dict, started: float,
                stream: bool) -> None:
    fields: dict[str, Any] = dict(request_id=request_id(request), mode=options["mode"], generator=options["generator"],
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
                    log.error(json.dumps({"event": "internal_error", "request_id": request_id(request),
                                          "error": repr(exc)}), exc_info=exc)
                    message = f"internal error (request id {request_id(request)})"
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
