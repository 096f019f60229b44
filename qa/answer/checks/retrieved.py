"""Nothing retrieved: an empty index or a question no passage comes near."""

from __future__ import annotations

from . import Context, Passes


class Retrieved(Passes):
    name = "retrieved"

    def verdict(self, ctx: Context) -> str | None:
        return None if ctx.hits else "nothing retrieved"
