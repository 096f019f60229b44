"""The HTTP API (FastAPI) and the static web page. Routes stay thin: they check the caller and the input, call
one `QAService` method, and shape the reply. Contract: DESIGN.md ("HTTP").

- `app`: `create_app(settings, service=None)` puts the app together; `server`: `qa serve` under uvicorn.
- `dependencies`: what routes depend on (caller and role, JSON body, rate limit, state), made once per app.
- One router module per resource: `answers` (/v1/ask, /v1/search), `documents`, `admin` (uploads, index
  jobs), `feedback`, `health`, `conversations`, `chat` (OpenAI-compatible, shapes in `openai_format`).
- `state` (the loaded service and its start-up), `runtime` (generation pool, index jobs), `middleware`,
  `errors`, `schemas`, `uploads`, `auth` (API keys and roles), `metrics` (Prometheus), `admission`.
- Answers are generated in a bounded worker pool (`runtime.GenerationPool`); search, document and feedback
  routes run in the ordinary threadpool, so they stay fast while answers are generated.
- Every error is JSON `{"detail": message}`; caller mistakes are 4xx, never 500.
"""

from .app import create_app

__all__ = ["create_app"]
