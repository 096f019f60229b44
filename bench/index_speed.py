"""Benchmark: index the corpus from scratch, then again unchanged (issue: <= 180 s and <= 10 s on 2 cores).

    python bench/index_speed.py ../shared/corpus [--embed-model embeddinggemma]
Prints one JSON object; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from qa.config import Settings
from qa.embed import configured_embedder
from qa.index.build import ingest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--embed-model", default=None)
    args = parser.parse_args()
    settings = Settings(**({"embed_model": args.embed_model} if args.embed_model else {}))
    started = time.perf_counter()
    embedder = configured_embedder(settings)
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        first = ingest(args.corpus, Path(tmp), settings, lambda: embedder)
        again = ingest(args.corpus, Path(tmp), settings, lambda: embedder)
    print(json.dumps({
        "embed_model": settings.embed_model, "chunk_size": settings.chunk_size, "overlap": settings.chunk_overlap,
        "files": first.files, "chunks": first.chunks, "languages": first.languages,
        "model_load_s": round(load_s, 1), "from_scratch_s": round(first.seconds, 1),
        "unchanged_rerun_s": round(again.seconds, 2), "rerun_embedded": again.embedded_chunks,
    }, indent=1))


if __name__ == "__main__":
    main()
