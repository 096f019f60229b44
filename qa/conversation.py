"""Conversations: a follow-up question made whole before retrieval and the answer checks see it.

"En als ik deeltijds werk?" retrieves nothing useful on its own: it leans on "Mag mijn baas mij 's avonds
nog mailen?". Two ways to make it a standalone question, behind one function (`condense`):

- `rule`: when the follow-up is elliptic (opens like "En als …" / "Et si …", points back with "dat" / "ça",
  or has few content words of its own), the content words of the earlier question (itself made whole, so a
  third turn keeps the first turn's focus) are carried over after it. No model; the word lists per language
  live in `qa/conversation_lexicon/*.toml`.
- `model`: a generator (the embedded model or Ollama, `qa.generate`) rewrites the follow-up from the earlier
  questions (`prompts/condense.*.txt`); a rewrite that is empty, too long or not a question falls back to
  the rule.

Which one is the default was measured on `eval/dialogues.jsonl` (docs/evaluation.md). Only the member's earlier
*questions* are context: the answers quote documents and would drag their wording into the next search.
Questions are personal data: nothing here logs them.
"""

from __future__ import annotations

import re
import threading
import time
import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal, Sequence

from .prompts import messages

Method = Literal["rule", "model"]
METHODS: tuple[str, ...] = ("rule", "model")
DEFAULT_METHOD: Method = "rule"  # measured against "model" on eval/dialogues.jsonl (docs/evaluation.md)

LEXICON_DIR = Path(__file__).parent / "conversation_lexicon"
# A follow-up with at most this many content words of its own cannot name its topic: "Et combien ?",
# "En voor ambtenaren?". Three leaves room for the new condition ("deeltijds werk").
ELLIPTIC_CONTENT_WORDS = 3
# Earlier questions shown to the rewriting model: the last few are enough context, and each costs time.
MODEL_CONTEXT_QUESTIONS = 3
MODEL_MAX_TOKENS = 64
# A rewrite longer than this many times follow-up + context is the model answering, not rewriting.
MODEL_MAX_GROWTH = 1.5
_CACHE_SIZE = 256
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\d+(?:[.,]\d+)*", re.UNICODE)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: the member's question and the answer text they were given."""

    question: str
    answer: str = ""
    language: str | None = None

    def to_json(self) -> dict:
        return {"question": self.question, "answer": self.answer, "language": self.language}


@dataclass(frozen=True)
class Condensed:
    """A follow-up made whole: `standalone` is what retrieval and the checks see."""

    question: str
    standalone: str
    method: str  # "none" (no history, or the follow-up stands alone), "rule" or "model"
    ms: float = 0.0


def cut_history(history: Sequence[Turn], max_turns: int) -> list[Turn]:
    """The last `max_turns` turns: a longer history is cut from the oldest, never refused."""
    return list(history)[-max_turns:] if max_turns > 0 else []


# ---------------------------------------------------------------- the rule


@dataclass(frozen=True)
class Lexicon:
    openers: tuple[str, ...]
    anaphora: frozenset[str]
    stopwords: frozenset[str]
    inversion_suffixes: frozenset[str] = frozenset()
    min_word_chars: int = 3


@lru_cache(maxsize=None)
def lexicon(language: str) -> Lexicon:
    path = LEXICON_DIR / f"{language if language in ('nl', 'fr') else 'nl'}.toml"
    with path.open("rb") as f:
        data = tomllib.load(f)
    return Lexicon(openers=tuple(sorted((o.lower() for o in data["openers"]), key=len, reverse=True)),
                   anaphora=frozenset(a.lower() for a in data["anaphora"]),
                   stopwords=frozenset(s.lower() for s in data["stopwords"]),
                   inversion_suffixes=frozenset(s.lower() for s in data.get("inversion_suffixes", [])),
                   min_word_chars=int(data.get("min_word_chars", 3)))


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def content_words(text: str, language: str) -> list[str]:
    """The words that carry a question's topic, in order, once each (both languages' function words out:
    a member may switch language between turns)."""
    stop = lexicon("nl").stopwords | lexicon("fr").stopwords
    minimum = lexicon(language).min_word_chars
    out: list[str] = []
    suffixes = lexicon("nl").inversion_suffixes | lexicon("fr").inversion_suffixes
    for word in _words(text):
        core = _core(word, stop, suffixes)
        if core in stop or (len(core) < minimum and not core.isdigit()) or core in out:
            continue
        out.append(core)
    return out


def _core(word: str, stop: frozenset[str], suffixes: frozenset[str]) -> str:
    """The part of a word that carries its meaning: "l'indemnité" -> "indemnité", "cao's" -> "cao" (the
    longest part between apostrophes that is not a function word), "réfléchit-on" -> "réfléchit" (a verb
    with its pronoun hyphenated after it)."""
    parts = [p for p in word.split("'") if p]
    kept = [p for p in parts if p not in stop] or parts or [word]
    core = max(kept, key=len)
    head, _, tail = core.partition("-")
    return head if tail and tail in suffixes else core


def _opens_with(text: str, openers: Sequence[str]) -> bool:
    lowered = " ".join(_words(text))
    return any(lowered == o or lowered.startswith(o + " ") for o in openers)


def _points_back(text: str, lex: Lexicon) -> bool:
    words = _words(text)
    joined = " " + " ".join(words) + " "
    return any((" " + a + " ") in joined for a in lex.anaphora)


def is_elliptic(question: str, language: str) -> bool:
    """Whether a follow-up leans on what was asked before."""
    lex = lexicon(language)
    return (_opens_with(question, lex.openers) or _points_back(question, lex)
            or len(content_words(question, language)) <= ELLIPTIC_CONTENT_WORDS)


def carry_over(question: str, earlier: str, language: str) -> str:
    """The follow-up, then the earlier question's content words it does not already have."""
    own = set(content_words(question, language))
    carried = [w for w in content_words(earlier, language) if w not in own]
    return f"{question.strip()} {' '.join(carried)}".strip() if carried else question.strip()


def rule_chain(questions: Sequence[str], languages: Sequence[str]) -> list[str]:
    """Each question made whole by the rule, in order: a third turn carries the first turn's focus through
    the second one's standalone form."""
    out: list[str] = []
    for question, language in zip(questions, languages):
        if out and is_elliptic(question, language):
            out.append(carry_over(question, out[-1], language))
        else:
            out.append(question.strip())
    return out


# ---------------------------------------------------------------- the model


def _clean_rewrite(text: str) -> str:
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:standalone|vraag|question|herschreven vraag|question reformulée)\s*:\s*", "", line,
                  flags=re.I)
    return line.strip().strip("\"“”«»").strip()


def model_rewrite(question: str, earlier: Sequence[str], language: str, model) -> str | None:
    """The model's standalone version of `question`, or None when its rewrite is unusable."""
    context = "\n".join(f"- {q.strip()}" for q in list(earlier)[-MODEL_CONTEXT_QUESTIONS:])
    prompt = messages(f"condense.{language if language in ('nl', 'fr') else 'nl'}", earlier=context,
                      question=question.strip())
    rewrite = _clean_rewrite(model.complete(prompt, max_tokens=MODEL_MAX_TOKENS))
    limit = MODEL_MAX_GROWTH * (len(question) + len(context))
    if not rewrite or len(rewrite) > limit or not _WORD.search(rewrite):
        return None
    return rewrite


# ---------------------------------------------------------------- both, behind one function


@dataclass
class Condenser:
    """Condenses follow-ups; remembers recent model rewrites so scoring and answering one turn cost one call."""

    max_turns: int = 10
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def condense(self, question: str, history: Sequence[Turn], language: str, *, method: str = DEFAULT_METHOD,
                 model=None, detect=None) -> Condensed:
        """`language`: the follow-up's; `detect(text)`: the language of an earlier question that does not
        say (a member may switch); `model`: a `qa.generate.Generator`, or None (then the rule applies)."""
        started = time.perf_counter()
        history = cut_history(history, self.max_turns)
        if not history:
            return Condensed(question, question.strip(), "none")
        earlier = [t.question for t in history]
        langs = [t.language or (detect(t.question) if detect else language) for t in history]
        chain = rule_chain([*earlier, question], [*langs, language])
        if method == "model" and model is not None:
            rewrite = self._rewrite(question, earlier, language, model)
            if rewrite is not None:
                return Condensed(question, rewrite, "model", _ms(started))
        standalone = chain[-1]
        used = "rule" if standalone != question.strip() else "none"
        return Condensed(question, standalone, used, _ms(started))

    def _rewrite(self, question: str, earlier: list[str], language: str, model) -> str | None:
        key = (getattr(model, "name", ""), language, question, tuple(earlier[-MODEL_CONTEXT_QUESTIONS:]))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        rewrite = model_rewrite(question, earlier, language, model)
        with self._lock:
            self._cache[key] = rewrite
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return rewrite


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
