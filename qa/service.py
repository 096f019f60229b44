"""The loaded service: settings, index, embedder and generators, created once and shared by CLI and HTTP
(`qa.open` makes one).

Routes and commands stay thin: they validate input, call one method here, and format the result. The service
puts the stages together: it checks the question, makes a follow-up whole, and hands the answer pipeline
(`qa.answer`) what it needs, as `AnswerInputs`, rather than itself.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .answer import answer_question
from .config import Settings
from .conversation import DEFAULT_METHOD, Condensed, Condenser, Turn
from .datatypes import Answer, Chunk, Hit
from .embed import Embedder, configured_embedder
from .index import DocumentInfo, Index, load_index
from .language import detect_question_language
from .retrieve.memory import QuestionMemory, load_memory
from .retrieve import RetrievalSettings, Retriever


class InputError(ValueError):
    """A caller's mistake (empty question, k out of range, unknown mode): a 4xx, never a 500."""


MODES = ("member", "helpdesk")
GENERATORS = ("embedded", "ollama", "extractive")
ANSWER_LANGUAGES = ("nl", "fr")
FOREIGN_QUESTION = ("Stel je vraag in het Nederlands of het Frans: de documenten en antwoorden zijn in die talen. / "
                    "Posez votre question en néerlandais ou en français : les documents et les réponses sont dans "
                    "ces langues. (The question looks {language}; to get an answer anyway, set \"language\" to "
                    "\"nl\" or \"fr\".)")
_LANGUAGE_NAMES = {"en": "English", "de": "German"}
_UNPAIRED_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class AnswerInputs:
    """What the answer pipeline reads: the settings, one retriever for the whole request (a re-index may swap
    the service's meanwhile), and the model back end by name (None for the extractive mode)."""

    settings: Settings
    retriever: Retriever
    generator: Callable[[str], Any]


def retrieval_settings(settings: Settings) -> RetrievalSettings:
    return RetrievalSettings(expansion_weight=settings.expansion_weight, expansion_dense=settings.expansion_dense,
                             crossing_weight={"nl": settings.crossing_weight_nl, "fr": settings.crossing_weight_fr},
                             memory_weight=settings.memory_weight, scope_weight=settings.scope_weight)


def question_memory(settings: Settings, index_dir: Path, index: Index, embedder: Embedder) -> QuestionMemory | None:
    """The remembered questions tied to this build, when the memory is in use."""
    if settings.memory_weight <= 0:
        return None
    return load_memory(index_dir, index, embedder, settings.memory_floor)


@dataclass
class QAService:
    settings: Settings
    index_dir: Path
    embedder: Embedder
    retriever: Retriever
    _swap_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _generators: dict = field(default_factory=dict, repr=False)
    condense_method: str = DEFAULT_METHOD  # how a follow-up is made whole: "rule" or "model" (qa/conversation.py)
    condenser: Condenser = field(default_factory=Condenser, repr=False)

    def __post_init__(self) -> None:
        self.condenser.max_turns = self.settings.max_history_turns

    @classmethod
    def load(cls, settings: Settings, index_dir: Path | None = None) -> "QAService":
        index_dir = index_dir or settings.index_dir
        index = load_index(index_dir, expect_model=settings.embed_model)
        embedder = configured_embedder(settings)
        memory = question_memory(settings, index_dir, index, embedder)
        return cls(settings, index_dir, embedder, Retriever(index, embedder, retrieval_settings(settings), memory))

    # ------------------------------------------------------------ input checks

    def check_question(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InputError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise InputError(f"the question is longer than {self.settings.max_question_chars} characters")
        if not question.isprintable() and _UNPAIRED_SURROGATE.search(question):
            raise InputError("the question holds characters that are not valid text (unpaired UTF-16 surrogates)")
        return question.strip()

    def check_k(self, k: int | None) -> int:
        k = self.settings.top_k if k is None else k
        if not 1 <= k <= self.settings.max_k:
            raise InputError(f"k must be between 1 and {self.settings.max_k}")
        return k

    def question_language(self, question: str, language: str | None) -> str:
        if language is None:
            return detect_question_language(question)
        if language not in ("nl", "fr"):
            raise InputError("language must be 'nl' or 'fr'")
        return language

    # ------------------------------------------------------------ capabilities

    @property
    def index(self) -> Index:
        return self.retriever.index

    def search(self, question: str, k: int | None = None, language: str | None = None) -> list[Hit]:
        question = self.check_question(question)
        return self.retriever.search(question, self.check_k(k), self.question_language(question, language))

    def ask(self, question: str, *, mode: str = "member", language: str | None = None,
            generator: str | None = None, k: int | None = None,
            on_token: Callable[[str], None] | None = None, history: Sequence[Turn] | None = None) -> Answer:
        """`history`: the earlier turns of the conversation, oldest first; the question is then made whole
        (`condense`) before retrieval and the checks see it, and answered in its own language."""
        question = self.check_question(question)
        if mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}")
        generator = generator or self.settings.generator
        if generator not in GENERATORS:
            raise InputError(f"generator must be one of {', '.join(GENERATORS)}")
        answer_language = self.question_language(question, language)
        if history and answer_language not in ANSWER_LANGUAGES:
            # "En in Brussel?" is too short to tell from German: a follow-up keeps the conversation's language.
            answer_language = history[-1].language or self.question_language(history[-1].question, None)
        if answer_language not in ANSWER_LANGUAGES:  # English or German, unmistakably: say so in both languages
            raise InputError(FOREIGN_QUESTION.format(language=_LANGUAGE_NAMES.get(answer_language, answer_language)))
        condensed = self.condense(question, history or [], answer_language, generator)
        inputs = AnswerInputs(self.settings, self.retriever, self.generator)
        # an answer that repeats the question ("Sur votre question (« … »)") repeats the member's words, not the
        # earlier turn's words the search was given beside them
        answer = answer_question(inputs, condensed.standalone, mode=mode, language=answer_language,
                                 generator=generator, k=self.check_k(k), on_token=on_token, own_words=question)
        if history:
            answer.timings_ms["condense_ms"] = condensed.ms
        return answer

    def condense(self, question: str, history: Sequence[Turn], language: str,
                 generator: str | None = None) -> Condensed:
        """The follow-up made whole from the earlier turns (unchanged without history)."""
        generator = generator or self.settings.generator
        model = self.generator(generator) if self.condense_method == "model" and history else None
        return self.condenser.condense(question, history, language, method=self.condense_method, model=model,
                                       detect=lambda text: self.question_language(text, None))

    def generator(self, name: str):
        """The model back end, created once; None for the extractive mode."""
        if name == "extractive":
            return None
        from .generate import make_generator

        with self._swap_lock:
            if name not in self._generators:
                self._generators[name] = make_generator(name, self.settings)
            return self._generators[name]

    def documents(self) -> list[DocumentInfo]:
        return list(self.index.documents.values())

    def chunk(self, doc: str, chunk_id: str) -> Chunk | None:
        chunk = self.index.chunk(chunk_id)
        return chunk if chunk is not None and chunk.doc == doc else None

    def reload_index(self) -> Index:
        """Load the current build and swap it in; requests in flight finish on the index they started with."""
        index = load_index(self.index_dir, expect_model=self.settings.embed_model)
        memory = question_memory(self.settings, self.index_dir, index, self.embedder)
        with self._swap_lock:
            self.retriever = Retriever(index, self.embedder, self.retriever.settings, memory)
        return index
