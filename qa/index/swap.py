"""Notice that the index folder's `current` link points at another build, and load that build.

Replicas share one index folder: the ingest job, or an admin's refresh on one replica, swaps `current` to a new
build atomically. Each server polls the link's target (one readlink and stat) every `QA_INDEX_POLL_S` in a
background thread and, when it differs from the build it serves, swaps the new one in; requests in flight
finish on the old build. A poll rather than a check on each request: loading a build takes seconds and must
not happen inside a request, and a few seconds' delay in picking up new documents harms nobody.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable

from ..logs import log_event
from .store import current_path

log = logging.getLogger("qa.index_watch")


class IndexWatch:
    """`loaded()` gives the running service (or None before any index loaded), `swap_in()` loads the current
    build into it, `busy()` is true while this process builds an index itself (which swaps it in on its own)."""

    def __init__(self, root: Path, loaded: Callable[[], Any], swap_in: Callable[[], None], interval_s: float,
                 busy: Callable[[], bool] = lambda: False):
        self.root = Path(root)
        self.loaded = loaded
        self.swap_in = swap_in
        self.busy = busy
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: Path | None = None  # a build that would not load: not retried until `current` moves on

    def start(self) -> None:
        if self.interval_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="qa-index-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
            except Exception as exc:  # the watch must outlive any one failed look
                log_event(log, "index_watch_failed", logging.WARNING, error=str(exc))

    def check(self) -> bool:
        """Swap in the current build if it is not the one served; True when a new build was loaded."""
        if self.busy():
            return False
        target = current_path(self.root)
        service = self.loaded()
        serving = Path(service.index.path).resolve() if service is not None else None
        if target is None or target == serving or target == self._failed:
            return False
        try:
            self.swap_in()
        except Exception as exc:  # the old build stays in service; say why once per build
            self._failed = target
            log_event(log, "index_reload_failed", logging.ERROR, build=target.name, error=str(exc))
            return False
        log_event(log, "index_reloaded", build=target.name)
        return True
