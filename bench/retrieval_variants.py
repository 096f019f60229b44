"""Compare retrieval variants on the eval set over one built index (no re-embedding of passages).

    python bench/retrieval_variants.py [--index index] [--questions eval/questions.jsonl]
Prints recall@5 / MRR per language for each fusion variant, the table behind docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from qa.config import Settings
from qa.embed import load_embedder
from qa.eval.questions import load_questions
from qa.eval.retrieval_scores import evaluate_retrieval
from qa.index import load_index
from qa.index.lexical import LexicalIndex
from qa.retrieve import RetrievalSettings, Retriever

VARIANTS = {
    "dense, passage vectors only": RetrievalSettings(fusion="dense", sentence_weight=0.0),
    "dense, passages + best sentence": RetrievalSettings(fusion="dense"),
    "lexical (stemmed BM25)": RetrievalSettings(fusion="lexical"),
    "rrf, equal weights in both languages": RetrievalSettings(lexical_weight={"nl": 1.0, "fr": 1.0}),
    "rrf, lexical x0.5 for French": RetrievalSettings(lexical_weight={"nl": 1.0, "fr": 0.5}),
    "hybrid without the sentence list": RetrievalSettings(sentence_weight=0.0),
    "hybrid, sentence list x0.5": RetrievalSettings(sentence_weight=0.5),
    "hybrid: lexical for Dutch questions only (default)": RetrievalSettings(),
}


class CachedQueries:
    """The same question is embedded once for all variants."""

    def __init__(self, embedder):
        self._embedder, self._cache = embedder, {}
        self.name, self.dim = embedder.name, embedder.dim

    def embed_queries(self, texts):
        import numpy as np

        for t in texts:
            if t not in self._cache:
                self._cache[t] = self._embedder.embed_queries([t])[0]
        return np.stack([self._cache[t] for t in texts])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    args = parser.parse_args()
    settings = Settings()
    index = load_index(args.index)
    embedder = CachedQueries(load_embedder(index.manifest.embed_model, settings.models_dir))
    questions = load_questions(args.questions)
    unstemmed = dataclasses.replace(index, lexical=LexicalIndex.build(
        [c.text for c in index.chunks], [c.language for c in index.chunks], stem=False))
    runs = [(name, index, variant) for name, variant in VARIANTS.items()]
    runs.insert(1, ("lexical, BM25 without stemming", unstemmed, RetrievalSettings(fusion="lexical")))
    rows = {}
    for name, idx, variant in runs:
        r = evaluate_retrieval(questions, Retriever(idx, embedder, variant))
        rows[name] = {lang: {m: r[lang][m] for m in ("recall@1", "recall@5", "recall@10", "mrr")}
                      for lang in ("nl", "fr", "all")}
        print(f"{name:52} nl r@5 {rows[name]['nl']['recall@5']:.3f}  fr r@5 {rows[name]['fr']['recall@5']:.3f}  "
              f"mrr {rows[name]['all']['mrr']:.3f}", flush=True)
    print(json.dumps({"embed_model": index.manifest.embed_model, "chunking": index.manifest.chunking,
                      "variants": rows}, indent=1))


if __name__ == "__main__":
    main()
