"""The feedback routes: a member's vote and comment on an answer, and the stored feedback for the helpdesk."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from ..logs import log_event
from .auth import Caller
from .dependencies import Deps
from .errors import request_id
from .schemas import FeedbackRequest, errors

log = logging.getLogger("qa.api")


def router(deps: Deps) -> APIRouter:
    api = APIRouter()
    state, settings, member, helpdesk, limited, json_body = deps.state, deps.settings, deps.member, deps.helpdesk, deps.limited, deps.json_body

    @api.post("/v1/feedback", tags=["feedback"], status_code=201, responses=errors(401, 404, 415, 422, 429))
    @limited
    def post_feedback(request: Request, body: FeedbackRequest, who: Caller = Depends(member), _j=Depends(json_body)):
        """Thumbs up/down and an optional comment on an answer. The question is stored only with `consent`."""
        answer = state.recent(body.answer_id) if body.answer_id else None
        if answer is None and body.answer is not None:
            answer = body.answer.model_dump()
        if answer is None:
            if body.answer_id:
                raise HTTPException(404, f"answer {body.answer_id!r} is unknown or expired; send the answer JSON "
                                         "in 'answer' instead")
            raise HTTPException(422, "send 'answer_id' or the answer JSON in 'answer'")
        if body.question is not None and len(body.question) > settings.max_question_chars:
            raise HTTPException(422, f"question: longer than {settings.max_question_chars} characters")
        feedback_id = state.feedback.add(vote=body.vote, answer=answer, consent=body.consent, question=body.question,
                                         comment=body.comment, answer_id=body.answer_id or answer.get("answer_id"))
        log_event(log, "feedback", request_id=request_id(request), feedback_id=feedback_id, vote=body.vote,
                  consent=body.consent)
        return {"id": feedback_id, "question_stored": bool(body.consent and body.question and body.question.strip())}

    @api.get("/v1/feedback", tags=["feedback"], responses=errors(401, 403, 422, 429))
    @limited
    def get_feedback(request: Request, who: Caller = Depends(helpdesk),
                     vote: Literal["up", "down"] | None = Query(None),
                     limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=2**62)):
        """Stored feedback, newest first (helpdesk and admin)."""
        return {"total": state.feedback.count(vote),
                "feedback": [r.to_json() for r in state.feedback.list(vote=vote, limit=limit, offset=offset)]}

    return api
