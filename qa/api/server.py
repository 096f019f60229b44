"""`qa serve`: the API and web page under uvicorn, one process (models load once, at start-up)."""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path
from typing import Any

from ..config import Settings, get_settings
from ..logs import configure_logging, log_event
from .app import create_app

log = logging.getLogger("qa.server")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(host: str | None = None, port: int | None = None, settings: Settings | None = None,
          index_dir: Path | None = None) -> None:
    """Run the API and web page with uvicorn (one process; models load once, at start-up)."""
    import uvicorn

    settings = settings or get_settings()
    if index_dir is not None:
        settings = settings.model_copy(update={"index_dir": Path(index_dir)})
    host = host or settings.host
    port = port or settings.port
    configure_logging()
    if not is_loopback(host) and not settings.api_keys:
        log_event(log, "no_api_keys", logging.WARNING, host=host,
                  warning="serving beyond loopback without QA_API_KEYS: anyone who can reach it may ask, and "
                          "admin and feedback routes are closed")
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, settings, host, port))
    server.run()
    if not server.started:  # e.g. the port is taken (as uvicorn.run does)
        sys.exit(3)


def uvicorn_config(app: Any, settings: Settings, host: str, port: int):
    """One process (models load once). On SIGTERM/SIGINT uvicorn stops accepting connections, gives requests
    in flight QA_SHUTDOWN_TIMEOUT_S to finish, cancels the rest, then runs the app's lifespan exit, which
    stops answers still generating (`GenerationPool.close`)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, workers=1,
                          timeout_graceful_shutdown=settings.shutdown_timeout_s)
