"""`AppState`: what one app holds for its lifetime: the loaded service (or why it is not loaded), the generation
pool, the index jobs, the stores and the metrics; start-up, warm-up, and swapping a new index in."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from .. import open as open_service
from ..config import Settings
from ..datatypes import Answer
from ..embed import EmbedError, configured_embedder
from ..feedback import FeedbackStore
from ..index import IndexUnavailable
from ..index.build import ingest as build_index
from ..logs import log_event
from ..service import QAService
from ..store import Store, StoreError
from .auth import KeyRing
from .metrics import Metrics
from .runtime import GenerationPool, IndexJobs, PoolFull

log = logging.getLogger("qa.api")


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
                self.service = open_service(self.index_dir, settings=self.settings)
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
        settings = self.settings
        folder = Path(settings.corpus_dir)
        if not folder.is_dir():
            raise IndexUnavailable(f"the documents folder {folder} does not exist (QA_CORPUS_DIR)")
        embedder = (self.service.embedder if self.service is not None else
                    configured_embedder(settings))
        report = build_index(folder, self.index_dir, settings, lambda: embedder, progress=progress)
        out = dict(report.__dict__)
        out["skipped"] = [{"doc": d, "reason": r} for d, r in report.skipped]
        return out

    def swap_in(self) -> None:
        if self.service is None:
            service = open_service(self.index_dir, settings=self.settings)
            self._warm_up(service)
            self.service, self.load_error = service, None
        else:
            self.service.reload_index()


# ---------------------------------------------------------------- errors
