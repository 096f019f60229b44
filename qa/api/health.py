"""Health and readiness: /healthz (the process is up), /readyz (index and embedder loaded), /metrics (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from .dependencies import Deps
from .schemas import errors


def router(deps: Deps) -> APIRouter:
    api = APIRouter()
    state, settings = deps.state, deps.settings

    @api.get("/healthz", tags=["health"])
    def healthz():
        """The process is up."""
        return {"status": "ok"}

    @api.get("/readyz", tags=["health"], responses=errors(503))
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
        @api.get("/metrics", tags=["health"], response_class=Response,
                 responses={200: {"content": {"text/plain": {}}}})
        def metrics():
            """Prometheus metrics: requests by route and status, answer stage latencies, abstentions,
            verification failures, index size and age (counts and timings only, nothing personal)."""
            body, media_type = state.metrics.render()
            return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})

    return api
