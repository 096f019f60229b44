"""The documents routes: the indexed documents, one document's catalog entry, one passage (to open a citation)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from .auth import Caller
from .dependencies import Deps
from .schemas import errors


def router(deps: Deps) -> APIRouter:
    api = APIRouter()
    state, member, limited = deps.state, deps.member, deps.limited

    @api.get("/v1/documents", tags=["documents"], responses=errors(401, 429, 503))
    @limited
    def documents(request: Request, who: Caller = Depends(member)):
        """The indexed documents."""
        service = state.ready_service()
        manifest = service.index.manifest
        return {"documents": [document_json(d) for d in sorted(service.documents(), key=lambda d: d.doc)],
                "index": {"build_id": manifest.build_id, "built_at": manifest.built_at,
                          "embed_model": manifest.embed_model, "chunk_count": manifest.chunk_count}}

    @api.get("/v1/documents/{doc:path}/chunks/{chunk_id}", tags=["documents"], responses=errors(401, 404, 429, 503))
    @limited
    def chunk(request: Request, doc: str, chunk_id: str, who: Caller = Depends(member)):
        """One passage, to open a citation: its text, document title, publisher and page.

        `chunk_id` is the full id (`doc#hash`, with `#` sent as `%23`) or just its hash part."""
        service = state.ready_service()
        info = service.index.documents.get(doc)
        if info is None:
            raise HTTPException(404, f"unknown document {doc!r}")
        found = service.chunk(doc, chunk_id) or service.chunk(doc, f"{doc}#{chunk_id}")
        if found is None:
            raise HTTPException(404, f"document {doc!r} has no passage {chunk_id!r}")
        return {**found.to_dict(), "publisher": info.publisher, "date": info.date}

    @api.get("/v1/documents/{doc:path}", tags=["documents"], responses=errors(401, 404, 429, 503))
    @limited
    def document(request: Request, doc: str, who: Caller = Depends(member)):
        """One indexed document's catalog entry."""
        info = state.ready_service().index.documents.get(doc)
        if info is None:
            raise HTTPException(404, f"unknown document {doc!r}")
        return document_json(info)

    return api


def document_json(info) -> dict:
    return {"doc": info.doc, "title": info.title, "publisher": info.publisher, "date": info.date,
            "languages": info.languages, "chunk_count": info.chunk_count, "indexed_at": info.indexed_at}
