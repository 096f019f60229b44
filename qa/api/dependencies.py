"""What routes depend on, made once per app: who the caller is and what role a route needs, the JSON body
check, the rate limit, and the app's state. Routers receive one `Deps` and use nothing else of the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPBearer
from slowapi import Limiter

from ..config import Settings
from .auth import Caller, KeyRing, at_least, hash_key, identify, presented_key
from .state import AppState


@dataclass(frozen=True)
class Deps:
    state: AppState
    settings: Settings
    keys: KeyRing
    member: Callable[..., Caller]  # FastAPI dependencies: the caller, with at least this role
    helpdesk: Callable[..., Caller]
    admin: Callable[..., Caller]
    json_body: Callable[..., None]  # 415 unless the body is sent as JSON
    limited: Callable  # the shared per-caller rate limit (QA_RATE_LIMIT), as a route decorator


def rate_key(request: Request) -> str:
    """Callers are counted by key when they present one (its digest), else by address."""
    key = presented_key(request.headers)
    if key:
        return "key:" + hash_key(key)[:16]
    return "ip:" + (request.client.host if request.client else "unknown")


def make_limiter(settings: Settings) -> Limiter:
    # Redis (QA_RATE_LIMIT_STORAGE) shares the counters between replicas; while it is unreachable or silent each
    # replica counts in its own memory rather than failing or holding requests.
    shared = not settings.rate_limit_storage.startswith("memory://")
    return Limiter(key_func=rate_key, headers_enabled=False, storage_uri=settings.rate_limit_storage,
                   in_memory_fallback_enabled=shared,
                   storage_options={"socket_connect_timeout": 2, "socket_timeout": 2} if shared else {})


def make_deps(state: AppState, limiter: Limiter) -> Deps:
    settings, keys = state.settings, state.keys
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

    def json_body(request: Request) -> None:
        ctype = request.headers.get("content-type")
        if ctype is None:
            return  # parsed as JSON anyway
        media = ctype.split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise HTTPException(415, f"send the request body as JSON (Content-Type: application/json), not {media}")

    return Deps(state=state, settings=settings, keys=keys, member=needs("member"), helpdesk=needs("helpdesk"),
                admin=needs("admin"), json_body=json_body,
                limited=limiter.shared_limit(settings.rate_limit, scope="api"))
