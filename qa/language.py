"""Which language a text or a member's question is written in (nl, fr, en, de).

Only four candidate languages: the union's documents and members are Dutch or French, and
English/German are the likely intruders (quotes, annexes, the German-speaking Community).
Restricting the candidates makes short texts far more reliable than an open detector.
"""

from __future__ import annotations

import re
import threading

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

UNDETERMINED = "und"
ANSWER_LANGUAGES = ("nl", "fr")

_CODES = {Language.DUTCH: "nl", Language.FRENCH: "fr", Language.ENGLISH: "en", Language.GERMAN: "de"}

# Lingua's accuracy does not improve much past a few hundred characters, but its cost grows
# with length; chunks are at most ~1200 characters, whole documents are not.
_MAX_CHARS = 2000

# A question is only reported as English/German when lingua is this sure and clearly prefers it
# over Dutch and French: short Dutch questions share many words with English ("Is er een
# bonus?") and a false "we only answer in Dutch or French" is worse than answering.
_FOREIGN_MIN_CONFIDENCE = 0.6
_FOREIGN_MIN_RATIO = 3.0

_detector: LanguageDetector | None = None
_lock = threading.Lock()


def _get_detector() -> LanguageDetector:
    # Built on first use (not at import) so importing qa stays cheap; the lock keeps two
    # request threads from building it twice. The built detector is safe to share.
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = LanguageDetectorBuilder.from_languages(*_CODES).build()
    return _detector


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def detect_language(text: str) -> str:
    """"nl", "fr", "en" or "de"; "und" when the text has nothing to detect (no letters)."""
    text = text[:_MAX_CHARS]
    if not _has_letters(text):
        return UNDETERMINED
    language = _get_detector().detect_language_of(text)
    return _CODES[language] if language is not None else UNDETERMINED


def language_confidences(text: str) -> dict[str, float]:
    """Confidence per candidate language (summing to 1), all 0.0 when nothing is detectable."""
    values = _get_detector().compute_language_confidence_values(text[:_MAX_CHARS])
    return {_CODES[v.language]: v.value for v in values}


def detect_question_language(question: str, default: str = "nl") -> str:
    """The language to answer a question in: "nl" or "fr", or "en"/"de" for a clearly foreign one.

    Members ask in Dutch or French, so Dutch and French win every close call. A question that
    is unmistakably English or German is reported as such so the caller can reply, in Dutch
    and French, that we only answer in those languages (rather than silently answering in a
    language the member did not use). Text with no letters gives `default`.
    """
    if not _has_letters(question):
        return default
    scores = language_confidences(question)
    nl, fr = scores.get("nl", 0.0), scores.get("fr", 0.0)
    best_answerable = "nl" if nl >= fr else "fr"
    best_answerable_score = max(nl, fr)
    foreign, foreign_score = max(((c, scores.get(c, 0.0)) for c in ("en", "de")), key=lambda p: p[1])
    if foreign_score >= _FOREIGN_MIN_CONFIDENCE and foreign_score >= _FOREIGN_MIN_RATIO * best_answerable_score:
        return foreign
    if best_answerable_score == 0.0:
        return default
    return best_answerable


def has_run_in(text: str, language: str, min_words: int = 3) -> bool:
    """Whether `text` holds a run of `min_words` or more lower-case words in `language`: a half-translated
    sentence ("De potentiële verliezers zullen principalement être ..."). Names kept in the original ("De
    Betrokken Partij") are capitalised, and a term kept in brackets ("(werkbaarheidscheque)") is shorter."""
    text = text[:_MAX_CHARS]
    for run in _get_detector().detect_multiple_languages_of(text):
        if _CODES.get(run.language) == language:
            words = re.findall(r"[^\W\d_]+", text[run.start_index:run.end_index])
            if sum(w[0].islower() for w in words) >= min_words:
                return True
    return False
