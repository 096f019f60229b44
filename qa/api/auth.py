"""API keys and roles.

Keys are configured as sha256 digests (`QA_API_KEYS='{"<sha256 hex>": "helpdesk"}'`): the service never
stores a key, only its digest. A caller presents a key as `Authorization: Bearer KEY` or `X-API-Key: KEY`;
its digest is compared with every configured digest in constant time (`hmac.compare_digest`, no early exit).

Roles are ordered: member < helpdesk < admin. A caller without a key is anonymous: a member when
`member_key_required` is false, nobody otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

ROLES = ("member", "helpdesk", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class KeyConfigError(ValueError):
    """QA_API_KEYS is not a mapping of sha256 hex digests to roles."""


def hash_key(key: str) -> str:
    """The sha256 hex digest under which a key is configured (`qa keys hash KEY`)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def key_entry(key: str, role: str) -> dict[str, str]:
    """The QA_API_KEYS entry for `key` with `role`."""
    if role not in ROLES:
        raise KeyConfigError(f"role must be one of {', '.join(ROLES)}")
    return {hash_key(key): role}


def at_least(role: str | None, minimum: str) -> bool:
    return role is not None and _RANK[role] >= _RANK[minimum]


@dataclass(frozen=True)
class Caller:
    """Who is asking: `role` None for an anonymous caller; `key_id` a short, non-secret digest prefix."""

    role: str | None
    key_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.key_id is None


class KeyRing:
    def __init__(self, digests: Mapping[str, str]):
        items = []
        for digest, role in digests.items():
            digest = digest.strip().lower()
            if not _HEX64.match(digest):
                raise KeyConfigError("QA_API_KEYS keys must be sha256 hex digests of the API keys "
                                     "(64 hex digits; make one with `qa keys hash KEY`), not the keys themselves")
            if role not in ROLES:
                raise KeyConfigError(f"QA_API_KEYS role {role!r} is unknown; use one of {', '.join(ROLES)}")
            items.append((digest.encode("ascii"), role))
        self._items = tuple(items)

    @property
    def configured(self) -> bool:
        return bool(self._items)

    def role_for(self, key: str) -> str | None:
        """The role of `key`, or None. Compares against every digest so timing does not reveal which matched."""
        digest = hash_key(key).encode("ascii")
        found = None
        for candidate, role in self._items:
            if hmac.compare_digest(digest, candidate):
                found = role
        return found


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key in `Authorization: Bearer KEY` or `X-API-Key: KEY`, or None."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def identify(ring: KeyRing, headers: Mapping[str, str], member_key_required: bool) -> Caller | None:
    """The caller, or None when a presented key is not valid (the API answers 401)."""
    key = presented_key(headers)
    if key is None:
        return Caller(role=None if member_key_required else "member")
    role = ring.role_for(key)
    if role is None:
        return None
    return Caller(role=role, key_id=hash_key(key)[:12])
