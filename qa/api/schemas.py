"""The JSON bodies of requests (pydantic models, strict) and the error reply documented for each route."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="An earlier question of the member.")
    answer: str = Field("", max_length=50_000, description="The answer text it got.")
    language: Literal["nl", "fr"] | None = Field(None, description="Its language; default: detected.")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={
        "examples": [{"question": "Ai-je droit à une indemnité de télétravail ?"},
                     {"question": "Mag mijn baas mij 's avonds nog mailen?", "mode": "helpdesk", "stream": True}]})

    question: str = Field(description="The member's question, in Dutch or French.")
    mode: Literal["member", "helpdesk"] = Field("member", description="`helpdesk` drafts a longer reply "
                                                "(needs a helpdesk or admin key when keys are configured).")
    language: Literal["nl", "fr"] | None = Field(None, description="Answer language; default: the question's.")
    generator: Literal["embedded", "ollama", "extractive"] | None = Field(
        None, description="Answer generator; default QA_GENERATOR.")
    k: int | None = Field(None, description="Passages given to the generator (default QA_TOP_K).")
    stream: bool = Field(False, description="Reply as Server-Sent Events: `draft` events "
                         '(`{"text": piece}`) while generating, then one `final` event with the answer JSON '
                         '(or an `error` event with `{"detail", "status"}`).')
    conversation_id: str | None = Field(None, max_length=64, description="Continue this conversation (its id "
                                        "came with an earlier answer): the question is read as a follow-up.")
    history: list[HistoryTurn] | None = Field(None, max_length=1000, description="Or the earlier turns, oldest "
                                              "first (beyond QA_MAX_HISTORY_TURNS the oldest are dropped).")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="The question to find passages for.")
    k: int | None = Field(None, description="Number of passages (default QA_TOP_K).")


class CitationRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    n: int
    doc: str = Field(max_length=1000)
    chunk_id: str = Field(max_length=1100)


class AnswerRef(BaseModel):
    """The answer JSON as /v1/ask returned it; only the fields feedback keeps are read."""

    model_config = ConfigDict(extra="ignore")

    answer: str = Field(max_length=50_000)
    language: str | None = Field(None, max_length=8)
    abstained: bool | None = None
    citations: list[CitationRef] = Field(default_factory=list, max_length=100)
    mode: str | None = Field(None, max_length=16)
    generator: str | None = Field(None, max_length=16)
    answer_id: str | None = Field(None, max_length=64)


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    answer_id: str | None = Field(None, max_length=64, description="`answer_id` of a recent /v1/ask reply.")
    answer: AnswerRef | None = Field(None, description="Or the answer JSON itself.")
    question: str | None = Field(None, description="The question; stored only when `consent` is true.")
    consent: bool = Field(False, description="The member agrees that their question is stored with the feedback.")
    vote: Literal["up", "down"]
    comment: str | None = Field(None, max_length=4000)


class ErrorOut(BaseModel):
    detail: str


def errors(*codes: int) -> dict:
    return {code: {"model": ErrorOut} for code in codes}
