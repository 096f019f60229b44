"""The answer pipeline: question -> retrieve -> choose evidence -> (translate | generate) -> verify -> Answer.

Grounding never rests on the generator alone. Evidence sentences are chosen from the retrieved passages
without a model; the extractive answer quotes them (the floor every mode falls back to). The `translate`
strategy has the model only translate those sentences into the question's language, then checks that no
number was lost or invented and that the meaning stayed close. The `generate` strategy lets a stronger
model write the answer, then keeps only the sentences the verifier accepts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from . import checks
from . import evidence as ev
from .counted import CountCheck, checkable
from .question import Question, read_question
from .answer_type import states
from ..datatypes import Answer, Chunk, Citation, Hit, Sentence
from ..language import detect_language, has_run_in
from ..lexicon import why
from ..numbers import bounds_in, numbers_in
from ..prompts import messages, phrase
from ..retrieve import Searched
from .scope import committee_at
from .verify import Checked, Numbered, check, parse_claims

OnToken = Callable[[str], None]


@dataclass
class Part:
    """One sentence of the answer body, tied to the passage it rests on."""

    kind: str  # "quote" | "translated" | "foreign" | "claim"
    text: str
    chunks: list[Chunk]
    quote: tuple[Chunk, int, int] | None
    verified: bool = True
    reason: str = ""
    scope: str | None = None  # the joint committee whose table row the quote comes from ("CP 320.00")

    @property
    def source(self) -> str:
        """The passage's sentence this part quotes or translates ("" for a model's claim)."""
        if not self.quote:
            return ""
        chunk, start, end = self.quote
        return chunk.text[start:end]


@dataclass
class Draft:
    parts: list[Part] = field(default_factory=list)
    generator: str = "extractive"


# ---------------------------------------------------------------- entry point


def answer_question(service, question: str, *, mode: str, language: str, generator: str, k: int,
                    on_token: OnToken | None = None, own_words: str | None = None) -> Answer:
    """`question` is what is searched and checked; `own_words`, the member's own question (for a follow-up,
    before it was made whole): the answer repeats it to them, and the checks read what is asked from it."""
    settings, timings = service.settings, {}
    started = time.perf_counter()
    retriever = service.retriever  # one index for the whole request, even if a re-index swaps it meanwhile
    searched = retriever.search_with_vector(question, k, language)
    hits = searched.hits
    timings["retrieve_ms"] = _ms(started)

    t = time.perf_counter()
    asked = read_question(question, language, retriever.index.publishers, own_words)
    ctx, chosen = choose_evidence(asked, searched, retriever, settings)
    ranked = ctx.ranked
    timings["evidence_ms"] = _ms(t)
    refused = checks.verdict(ctx)
    if refused:
        return _abstain(language, mode, hits, generator, timings, started, refused[1], refused[0])

    t = time.perf_counter()
    model = service.generator(generator)
    strategy = settings.answer_strategy or ("translate" if generator == "embedded" else "generate")
    if model is None:
        draft = extractive(chosen, language)
    elif strategy == "translate":
        draft = translate(chosen, language, model, retriever.embedder, settings, on_token, _answering(ctx))
    else:
        draft = generate(question, language, mode, hits, ranked, model, retriever, settings, on_token)
        if not any(p.verified for p in draft.parts):
            draft = extractive(chosen, language)  # nothing the model wrote survived: fall back to the floor
    timings["generate_ms"] = _ms(t)
    _add_scopes(draft, retriever.index)
    if mode == "member":
        draft.parts = [p for p in draft.parts if p.verified]
    if not draft.parts:
        return _abstain(language, mode, hits, generator, timings, started,
                        "no sentence of the answer could be verified")
    result = assemble(draft, language, mode, question, own_words)
    result.see_also = hits[:3]
    result.generator, result.mode = draft.generator, mode
    timings["total_ms"] = _ms(started)
    result.timings_ms = timings
    if on_token and model is None:
        on_token(result.answer)
    return result


def choose_evidence(question: Question, searched: Searched, retriever, settings
                    ) -> tuple[checks.Context, list[ev.Evidence]]:
    """The checks' context (candidate sentences best first, narrowed by the checks; for a value question the
    sentences that state what was asked) and the sentences the answer will rest on."""
    counting = question.kind == "count" and checkable(question.text, retriever.embedder)
    hits = searched.hits
    pool = ev.candidates(retriever.index, hits, fact_line=(lambda text: states("count", text)) if counting else None)
    ranked = ev.score(question.text, question.language, searched.vector, pool, rewritten_vector=searched.rewritten)
    ctx = checks.Context(question, hits, ranked, retriever.index, settings, retriever.embedder, searched.vector)
    ranked = checks.narrow(ctx)
    answering = _answering(ctx)
    check = ctx.notes.get("check")
    chosen = ev.select(ranked, limit=settings.evidence_sentences, margin=settings.evidence_margin,
                       per_passage=settings.evidence_per_passage, must=answering, language=question.language)
    if isinstance(check, CountCheck) and any(check.answers(e.text) for e in chosen):
        chosen = [e for e in chosen if not check.counts_other(e.text)]  # "29 sectoren" does not say how many firms
    return ctx, _with_answer_passages(chosen, answering)


def _answering(ctx: checks.Context) -> Callable[[str], bool] | None:
    """For a question asking a value or a finding, whether a sentence states it (the typed-answer check's
    reading); None for other questions."""
    return (lambda text: text in ctx.answering) if ctx.answering is not None else None


def _with_answer_passages(chosen: list[ev.Evidence], answering: Callable[[str], bool] | None) -> list[ev.Evidence]:
    """For a "how much / how many / when" question, only the passages that state the number or date: a sentence
    of another passage that states none does not answer, and citing it only sends the member to the wrong
    page. Sentences around the answer in its own passage stay ("… is gratis" may be the answer's context)."""
    if answering is None:
        return chosen
    passages = {e.hit.chunk.chunk_id for e in chosen if answering(e.text)}
    return [e for e in chosen if e.hit.chunk.chunk_id in passages] if passages else chosen


def _add_scopes(draft: Draft, index) -> None:
    """Name the joint committee of quotes from sector tables: an amount must not read as everyone's right."""
    for part in draft.parts:
        if part.kind != "claim" and part.quote:
            chunk, start, _ = part.quote
            found = committee_at(index, chunk, start)
            part.scope = found.code if found else None


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _abstain(language: str, mode: str, hits: list[Hit], generator: str, timings: dict, started: float,
             reason: str, check: str | None = None) -> Answer:
    text = phrase(language, "abstain")
    if mode == "helpdesk":
        text = "\n\n".join([phrase(language, "greeting"), phrase(language, "helpdesk_abstain"),
                            phrase(language, "helpdesk_next"), phrase(language, "closing")])
    timings["total_ms"] = _ms(started)
    return Answer(answer=text, language=language, abstained=True, citations=[], timings_ms=timings,
                  see_also=hits[:3], generator=generator, mode=mode, abstain_reason=reason, abstain_check=check)


# ---------------------------------------------------------------- strategies


def extractive(chosen: list[ev.Evidence], language: str) -> Draft:
    """Quote the evidence sentences as they stand; a foreign-language quote says which language it is in."""
    parts = [Part("quote" if e.language == language else "foreign", e.text, [e.hit.chunk],
                  (e.hit.chunk, e.span.start, e.span.end)) for e in chosen]
    return Draft(parts, "extractive")


def translate(chosen: list[ev.Evidence], language: str, model, embedder, settings,
              on_token: OnToken | None, answering: Callable[[str], bool] | None = None) -> Draft:
    """Quote same-language evidence; translate the rest, keeping a translation only if it checks out."""
    parts = []
    for e in chosen:
        quote = (e.hit.chunk, e.span.start, e.span.end)
        if e.language == language:
            parts.append(Part("quote", e.text, [e.hit.chunk], quote))
            continue
        text = model.complete(messages(f"translate.{language}", text=e.text),
                              max_tokens=min(400, len(e.text) // 2 + 40), on_token=on_token).strip()
        problem = translation_problem(e, text, language, embedder, settings.min_translation_similarity)
        if problem:
            parts.append(Part("foreign", e.text, [e.hit.chunk], quote))
        else:
            parts.append(Part("translated", text, [e.hit.chunk], quote))
    return Draft(_drop_untranslated(parts, answering), model.name)


def _drop_untranslated(parts: list[Part], answering: Callable[[str], bool] | None) -> list[Part]:
    """Once part of the evidence reads in the member's language, the sentences that could not be translated
    are left out: the originals stay one click away in "see also", and a Dutch quote helps a French reader less
    than a shorter answer in French. One stays: for a question asking a value, the sentence that states the
    value asked, when no kept sentence does. Any other number in an untranslated sentence is not what was asked,
    and a second date beside the one asked ("published on 3 May 2017" and "described on 8 February 2016")
    only blurs the answer."""
    kept = [p for p in parts if p.kind != "foreign"]
    if not kept or len(kept) == len(parts):
        return parts
    if answering is None or any(answering(p.source) for p in kept):
        return kept
    return [p for p in parts if p.kind != "foreign" or answering(p.source)]


def translation_problem(source: ev.Evidence, text: str, language: str, embedder, threshold: float) -> str:
    """Why a translation cannot be shown ("" when it can): wrong language, changed numbers, drifted meaning."""
    if not text or detect_language(text) != language:
        return "not in the target language"
    if has_run_in(text, source.language):
        return "partly left untranslated"
    if numbers_in(text, language) != numbers_in(source.text, source.language):
        return "numbers changed in translation"
    if bounds_in(text, language) != bounds_in(source.text, source.language):
        return "a bound on a number changed in translation"  # "bijna 15 procent" -> "plus de 15 %"
    # Both sides embedded the same way (as queries, out of context): the source's stored vector is
    # contextual and document-side, which scored good translations too low to compare against a floor.
    translated, original = embedder.embed_queries([text, source.text])
    similarity = float(translated @ original)
    return "" if similarity >= threshold else f"meaning drifted (similarity {similarity:.2f})"


def generate(question: str, language: str, mode: str, hits: list[Hit], ranked: list[ev.Evidence], model,
             retriever, settings, on_token: OnToken | None) -> Draft:
    """The model writes the answer from short numbered excerpts; the verifier keeps what holds."""
    chunks = _prompt_chunks(hits, ranked, settings.prompt_passages)
    excerpts = "\n\n".join(f"[{i}] {c.title}\n{_excerpt(c, ranked)}" for i, c in enumerate(chunks, 1))
    text = model.complete(messages(f"{mode}.{language}", passages=excerpts, question=question),
                          max_tokens=settings.max_answer_tokens, on_token=on_token)
    claims = parse_claims(_strip_letter(text, language), language)
    if not claims or detect_language(text) != language:
        return Draft([], model.name)
    vectors = retriever.embedder.embed_queries([c.text for c in claims])
    numbered = Numbered(chunks, retriever.index)
    checked = check(claims, numbered, vectors, settings.min_support_similarity)
    return Draft([_part_from(c, chunks) for c in checked], model.name)


def _prompt_chunks(hits: list[Hit], ranked: list[ev.Evidence], limit: int) -> list[Chunk]:
    """The passages holding the best evidence sentences, best first."""
    out: list[Chunk] = []
    for e in ranked:
        if e.hit.chunk not in out:
            out.append(e.hit.chunk)
        if len(out) == limit:
            break
    return out or [h.chunk for h in hits[:limit]]


def _excerpt(chunk: Chunk, ranked: list[ev.Evidence], per_chunk: int = 3) -> str:
    """The chunk's best sentences in reading order: every prompt token costs ~10 ms on two cores."""
    mine = [e for e in ranked if e.hit.chunk is chunk][:per_chunk]
    return " ".join(e.text for e in sorted(mine, key=lambda e: e.span.start)) or chunk.text


def _strip_letter(text: str, language: str) -> str:
    """Greeting and closing lines of a helpdesk draft are not claims to verify."""
    fixed = {phrase(language, "greeting"), *phrase(language, "closing").splitlines()}
    return "\n".join(line for line in text.splitlines() if line.strip() not in fixed)


def _part_from(c: Checked, chunks: list[Chunk]) -> Part:
    quote = (chunks[c.quote[0] - 1], c.quote[1], c.quote[2]) if c.quote else None
    return Part("claim", c.claim.text, [chunks[n - 1] for n in c.cited], quote, c.verified, c.reason)


# ---------------------------------------------------------------- assembly


def assemble(draft: Draft, language: str, mode: str, question: str = "", own_words: str | None = None) -> Answer:
    """Number the cited passages in order of first use and write the answer text around them; each citation
    says which words of the `question` the passage meets. A sentence repeating the question repeats
    `own_words`, the member's own question, when given."""
    numbers: dict[str, int] = {}
    quotes: dict[str, tuple[int, int]] = {}
    chunks: dict[str, Chunk] = {}
    lines, sentences = [], []
    for part in draft.parts:
        for c in part.chunks:
            numbers.setdefault(c.chunk_id, len(numbers) + 1)
            chunks[c.chunk_id] = c
        if part.quote and part.verified:
            quotes.setdefault(part.quote[0].chunk_id, (part.quote[1], part.quote[2]))
        cites = [numbers[c.chunk_id] for c in part.chunks]
        line = _render(part, language, cites)
        lines.append(line)
        sentences.append(Sentence(line, cites, part.verified, part.reason))
    if draft.parts and all(p.kind == "foreign" for p in draft.parts):
        # nothing in the member's language: say in it what the quotes answer and where they come from
        lines.insert(0, phrase(language, "foreign_intro", question=(own_words or question).strip(),
                               title=draft.parts[0].chunks[0].title))
    body = "\n".join(lines)
    text = _letter(body, language) if mode == "helpdesk" else body
    citations = [_citation(numbers[cid], chunks[cid], quotes.get(cid), question, language) for cid in numbers]
    return Answer(answer=text, language=language, abstained=False, citations=citations, sentences=sentences)


def _render(part: Part, language: str, cites: list[int]) -> str:
    if part.kind == "claim":
        marks = "".join(f"[{n}]" for n in cites)
        return f"{part.text.rstrip()} {marks}".strip()
    key = {"quote": "according", "translated": "according_translated", "foreign": "according_foreign"}[part.kind]
    return phrase(language, key, n=cites[0], text=part.text, scope=_scope_label(part.scope, language))


def _scope_label(scope: str | None, language: str) -> str:
    """" (CP 320.00)" in French, " (PC 320.00)" in Dutch, "" without a scope."""
    if not scope:
        return ""
    if language == "nl":
        scope = scope.replace("SCP", "PSC").replace("CP", "PC")
    return f" ({scope})"


def _letter(body: str, language: str) -> str:
    return "\n\n".join([phrase(language, "greeting"), phrase(language, "helpdesk_intro"), body,
                        phrase(language, "helpdesk_next"), phrase(language, "closing")])


def _citation(n: int, chunk: Chunk, span: tuple[int, int] | None, question: str, language: str) -> Citation:
    start, end = span if span else (0, min(len(chunk.text), 200))
    return Citation(n=n, chunk=chunk, quote=chunk.text[start:end], quote_start=start, quote_end=end,
                    why=why(question, language, chunk.text, chunk.language) if question else [])
