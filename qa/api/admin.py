"""The admin routes: upload or delete a document, refresh the index, the index job's status. Each change of the
documents folder rebuilds the index in the background (`qa.api.runtime.IndexJobs`) and swaps it in."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from ..ingest import CATALOG_NAME, SUPPORTED_SUFFIXES
from ..logs import log_event
from .auth import Caller
from .dependencies import Deps
from .errors import request_id
from .schemas import errors
from .uploads import UploadRejected, check_content, inside, sanitise_filename, store_file

log = logging.getLogger("qa.api")


def router(deps: Deps) -> APIRouter:
    api = APIRouter()
    state, settings, admin, limited = deps.state, deps.settings, deps.admin, deps.limited

    @api.post("/v1/documents", tags=["admin"], status_code=202, responses=errors(400, 401, 403, 409, 413, 415),
              openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                  "type": "object", "required": ["file"],
                  "properties": {"file": {"type": "string", "format": "binary"}}}}}}})
    @limited
    async def upload(request: Request, who: Caller = Depends(admin)):
        """Add or replace a document (PDF, DOCX, UTF-8 text/Markdown, HTML) in the documents folder, then
        re-index in the background (unchanged files are not re-embedded). Follow GET /v1/index/status."""
        media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if media != "multipart/form-data":
            raise HTTPException(415, "upload the document as multipart/form-data in a field named 'file'")
        try:
            form = await request.form(max_files=1, max_fields=5)
        except HTTPException:
            raise
        except Exception as exc:
            raise HTTPException(400, f"the multipart body cannot be read ({exc})") from None
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, "send the document in a multipart field named 'file'")
        name = sanitise_filename(upload.filename)
        data = await upload.read()
        await form.close()
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, f"the file is {len(data) / 1048576:.1f} MB; the limit is "
                                     f"{settings.max_upload_bytes / 1048576:.1f} MB (QA_MAX_UPLOAD_BYTES)")
        check_content(data, "." + name.rpartition(".")[2].lower())
        folder = Path(settings.corpus_dir)
        target = inside(folder, name)
        if target is None:
            raise UploadRejected(400, f"{name!r} cannot be used as a document name")
        state.jobs.reserve("upload", name)
        try:
            replaced = await run_in_threadpool(store_file, folder, target, data)
        except BaseException:
            state.jobs.release()
            raise
        state.jobs.start(state.build, state.swap_in)
        log_event(log, "document_uploaded", request_id=request_id(request), doc=name, bytes=len(data), replaced=replaced,
                  key=who.key_id)
        return {"doc": name, "bytes": len(data), "replaced": replaced, "job": state.jobs.status.to_json()}

    @api.delete("/v1/documents/{doc:path}", tags=["admin"], status_code=202, responses=errors(401, 403, 404, 409))
    @limited
    def delete_document(request: Request, doc: str, who: Caller = Depends(admin)):
        """Remove a document from the documents folder, then re-index in the background."""
        folder = Path(settings.corpus_dir)
        target = inside(folder, doc)
        if (target is None or not target.is_file() or target.name.startswith(".")
                or target.suffix.lower() not in SUPPORTED_SUFFIXES or target.name == CATALOG_NAME):
            raise HTTPException(404, f"no document {doc!r} in the documents folder")
        state.jobs.reserve("delete", doc)
        try:
            target.unlink()
        except BaseException:
            state.jobs.release()
            raise
        state.jobs.start(state.build, state.swap_in)
        log_event(log, "document_deleted", request_id=request_id(request), doc=doc, key=who.key_id)
        return {"doc": doc, "deleted": True, "job": state.jobs.status.to_json()}

    @api.post("/v1/index/refresh", tags=["admin"], status_code=202, responses=errors(401, 403, 409))
    @limited
    def refresh(request: Request, who: Caller = Depends(admin)):
        """Re-index the documents folder in the background (changed files only) and swap the new index in."""
        state.jobs.run("refresh", state.build, state.swap_in)
        log_event(log, "index_refresh", request_id=request_id(request), key=who.key_id)
        return {"job": state.jobs.status.to_json()}

    @api.get("/v1/index/status", tags=["admin"], responses=errors(401, 403))
    @limited
    def index_status(request: Request, who: Caller = Depends(admin)):
        """The current or last index job (state idle|running|done|failed, progress) and the index in service."""
        service = state.service
        current = None
        if service is not None:
            m = service.index.manifest
            current = {"build_id": m.build_id, "built_at": m.built_at, "chunk_count": m.chunk_count,
                       "documents": len(service.index.documents), "embed_model": m.embed_model}
        return {"job": state.jobs.status.to_json(), "index": current, "load_error": state.load_error}

    return api
