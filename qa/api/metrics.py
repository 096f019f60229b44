"""Prometheus metrics for `GET /metrics`: one registry per app (two apps in one process never clash).

What is counted (no question text, no API key, nothing personal):
- `qa_http_requests_total{method, route, status}` and `qa_http_request_duration_seconds{method, route}`: every
  HTTP request, labelled by its route *template* (`/v1/documents/{doc:path}`), never the raw path; requests
  that match no route are `route="unmatched"`, so scanners cannot blow up the label set;
- `qa_answer_stage_seconds{stage, generator}`: the stages of each answer from `Answer.timings_ms`
  (`retrieve`, `evidence`, `generate` - which includes verifying what the model wrote - and `total`);
- `qa_search_seconds`: one `/v1/search` retrieval;
- `qa_answers_total{generator, language, mode}`, `qa_abstentions_total{language, mode}` and
  `qa_verification_failed_sentences_total{generator}` (answer sentences whose `verified` is false: the
  helpdesk sees them flagged; in member mode they are removed before the answer is assembled);
- read at scrape time: `qa_ready`, `qa_index_chunks`, `qa_index_documents`, `qa_index_age_seconds` (since the
  manifest's `built_at`), `qa_answers_in_flight`, `qa_answer_capacity`, `qa_generator_ready`, `qa_build_info`.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from .. import __version__
from ..datatypes import Answer

# Seconds. Searches take milliseconds; answers from a CPU model take up to a minute or two.
FAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ANSWER_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0, 300.0)
STAGES = {"retrieve_ms": "retrieve", "evidence_ms": "evidence", "generate_ms": "generate", "total_ms": "total"}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


class Metrics:
    """The app's metrics; `state` is the app state (read at scrape time for the gauges), may be None."""

    def __init__(self, state: Any = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("qa_http_requests", "HTTP requests by method, route template and status.",
                                ["method", "route", "status"], registry=r)
        self.request_seconds = Histogram("qa_http_request_duration_seconds", "HTTP request latency (a streamed "
                                         "answer counts until its last event).", ["method", "route"],
                                         buckets=ANSWER_BUCKETS, registry=r)
        self.stage_seconds = Histogram("qa_answer_stage_seconds", "Time per answer stage (Answer.timings_ms): "
                                       "retrieve, evidence, generate (includes verification), total.",
                                       ["stage", "generator"], buckets=ANSWER_BUCKETS, registry=r)
        self.search_seconds = Histogram("qa_search_seconds", "Retrieval time of one /v1/search.",
                                        buckets=FAST_BUCKETS, registry=r)
        self.answers = Counter("qa_answers", "Answers returned.", ["generator", "language", "mode"], registry=r)
        self.abstentions = Counter("qa_abstentions", "Answers that said the documents do not answer.",
                                   ["language", "mode"], registry=r)
        self.failed_sentences = Counter("qa_verification_failed_sentences", "Answer sentences that failed "
                                        "verification (Answer.sentences with verified false).", ["generator"],
                                        registry=r)
        if state is not None:
            r.register(StateCollector(state))

    # ------------------------------------------------------------ recording

    def observe_answer(self, answer: Answer) -> None:
        generator = answer.generator or "unknown"
        for key, ms in answer.timings_ms.items():
            stage = STAGES.get(key)
            if stage is not None:
                self.stage_seconds.labels(stage, generator).observe(max(ms, 0.0) / 1000)
        self.answers.labels(generator, answer.language, answer.mode).inc()
        if answer.abstained:
            self.abstentions.labels(answer.language, answer.mode).inc()
        failed = sum(1 for s in answer.sentences if not s.verified)
        self.failed_sentences.labels(generator).inc(failed)  # inc(0) still creates the series

    def observe_search(self, seconds: float) -> None:
        self.search_seconds.observe(seconds)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    # ------------------------------------------------------------ exposition

    def render(self) -> tuple[bytes, str]:
        """(body, content type) of the text exposition format."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def index_age_seconds(built_at: str, now: datetime | None = None) -> float | None:
    """Seconds since the manifest's `built_at` (ISO 8601, UTC when no zone is given); None if unreadable."""
    try:
        built = datetime.fromisoformat(built_at)
    except (TypeError, ValueError):
        return None
    if built.tzinfo is None:
        built = built.replace(tzinfo=timezone.utc)
    return max(0.0, ((now or datetime.now(timezone.utc)) - built).total_seconds())


class StateCollector(Collector):
    """Gauges computed when Prometheus scrapes: the index in service may be swapped at any time."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self):
        state = self.state
        service = getattr(state, "service", None)
        settings = getattr(state, "settings", None)
        info = InfoMetricFamily("qa_build", "Version and configuration of this service.")
        info.add_metric([], {"version": __version__,
                             "embed_model": str(getattr(settings, "embed_model", "")),
                             "generator": str(getattr(settings, "generator", ""))})
        yield info
        yield GaugeMetricFamily("qa_ready", "1 when the index and embedder are loaded (as /readyz).",
                                value=1 if service is not None else 0)
        generator_state = str(getattr(state, "generator_state", ""))
        yield GaugeMetricFamily("qa_generator_ready", "1 when the configured generator answered its check.",
                                value=1 if generator_state == "ready" else 0)
        pool = getattr(state, "pool", None)
        if pool is not None:
            yield GaugeMetricFamily("qa_answers_in_flight", "Answers being generated or waiting for a worker.",
                                    value=pool.in_flight)
            yield GaugeMetricFamily("qa_answer_capacity", "Answers that may be generated or wait at once.",
                                    value=pool.capacity)
        if service is None:
            return
        manifest = service.index.manifest
        yield GaugeMetricFamily("qa_index_chunks", "Passages in the index in service.", value=manifest.chunk_count)
        yield GaugeMetricFamily("qa_index_documents", "Documents in the index in service.",
                                value=len(service.index.documents))
        age = index_age_seconds(manifest.built_at)
        if age is not None:
            yield GaugeMetricFamily("qa_index_age_seconds", "Seconds since the index in service was built.",
                                    value=age)


class MetricsMiddleware:
    """Counts every HTTP request by route template and status, and times it (plain ASGI: streams pass through)."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500}  # an exception that escapes becomes a 500 further out

        async def record_status(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.metrics.observe_request(scope["method"], route_template(scope), status["code"],
                                         time.perf_counter() - started)


def route_template(scope) -> str:
    """The matched route's path template (set by the router on the shared scope), or `unmatched`."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"
