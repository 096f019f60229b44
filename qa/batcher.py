"""Micro-batching: texts that callers on several threads want embedded at about the same time go through the
model in one call.

The question's embedding is nearly all of a search's CPU (bench/README.md), and on two cores a batch of 16
questions costs far less than 16 questions one by one, because one forward pass over a batch uses the
matrix units better than many tiny ones. So, as text-embeddings-inference does, one thread owns the model
for queries: a caller puts its texts in a queue and waits; the thread takes the oldest request, waits up to
`wait_ms` (counted from that request's arrival) for more to join, and embeds them all at once, at most
`max_texts` texts a call. Requests that queued while the model was busy are already past their wait, so
under load a batch is simply everything that arrived during the previous one. With `workers` = 2, one batch
is formed (and tokenised, single-threaded work) while the other runs the model, so the cores are not idle
between model calls.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class _Request:
    texts: list[str]
    arrived: float = field(default_factory=time.monotonic)
    result: Future = field(default_factory=Future)


@dataclass
class BatchStats:
    """What the batcher has done: model calls and texts embedded (a mean batch size for /metrics or a bench)."""

    calls: int = 0
    texts: int = 0
    largest: int = 0


class MicroBatcher:
    """Serialises `encode` calls from many threads and merges the ones that arrive within `wait_ms`."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], wait_ms: float, max_texts: int,
                 workers: int = 1, name: str = "qa-embed-batcher"):
        if max_texts < 1 or workers < 1:
            raise ValueError("max_texts and workers must be at least 1")
        self._encode = encode
        self.wait_s = max(0.0, wait_ms) / 1000
        self.max_texts = max_texts
        self.stats = BatchStats()
        self._queue: queue.Queue[_Request] = queue.Queue()
        self._held: _Request | None = None  # taken from the queue but too large for the batch being formed
        self._forming = threading.Lock()  # one worker forms a batch at a time; the others embed theirs
        self._stats_lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def __call__(self, texts: list[str]) -> np.ndarray:
        """The vectors of `texts`, row for row, as `encode(texts)` would give them."""
        texts = list(texts)
        if not texts:
            return self._encode([])
        request = _Request(texts)
        self._queue.put(request)
        return request.result.result()

    def _next_batch(self) -> list[_Request]:
        with self._forming:
            return self._form_batch()

    def _form_batch(self) -> list[_Request]:
        first = self._held or self._queue.get()
        self._held = None
        batch, size = [first], len(first.texts)
        deadline = first.arrived + self.wait_s
        while size < self.max_texts:
            try:
                timeout = deadline - time.monotonic()
                request = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if size + len(request.texts) > self.max_texts:
                self._held = request  # first of the next batch: a request is never split
                break
            batch.append(request)
            size += len(request.texts)
        return batch

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            texts = [t for r in batch for t in r.texts]
            try:
                vectors = self._encode(texts)
            except BaseException as exc:  # every caller of the batch gets the error; the thread lives on
                for r in batch:
                    r.result.set_exception(exc)
                continue
            with self._stats_lock:
                self.stats.calls += 1
                self.stats.texts += len(texts)
                self.stats.largest = max(self.stats.largest, len(texts))
            at = 0
            for r in batch:
                r.result.set_result(vectors[at:at + len(r.texts)])
                at += len(r.texts)
