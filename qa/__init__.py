"""qa: cited, grounded answers in Dutch and French over a trade union's documents.

The Python face is one call::

    import qa

    service = qa.open("index")          # an index folder built by `qa ingest`
    hits = service.search("Heb ik recht op thuiswerk?")          # passages, best first
    answer = service.ask("Ai-je droit au télétravail ?")         # an Answer: text, citations, or abstention
    print(answer.answer, [c.chunk.doc for c in answer.citations])

`qa.open(index_dir=None, settings=None)` loads the index and the embedder once and returns a
`qa.service.QAService`; without arguments the index folder and every other setting come from the environment
(`QA_*`, see `qa.config.Settings`). The CLI (`qa.cli`) and the HTTP API (`qa.api`) are thin users of it.

The packages follow the data flow, each importing only the ones before it:
`ingest` (read and clean files, split them) -> `index` (embed, build, store, swap) -> `retrieve` (hybrid
search) -> `answer` (evidence, generation, checks) -> `service` -> `api` / `cli`; `eval` scores the whole.
Shared below them: `config`, `models` (the model specs), `datatypes`, `language`, `sentences`, `numbers`,
`fold`, `prompts`, `embed`, `generate`, `conversation`, `store`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings
    from .service import QAService

__version__ = "0.1.0"
__all__ = ["open", "__version__"]


def open(index_dir: str | Path | None = None, *, settings: Settings | None = None) -> QAService:  # noqa: A001
    """The service over the index in `index_dir` (default: QA_INDEX_DIR), with `settings` (default: from the
    environment). Raises `qa.index.IndexUnavailable` when there is no usable index and `qa.embed.EmbedError`
    when the embedder cannot load."""
    from .config import get_settings
    from .service import QAService

    return QAService.load(settings or get_settings(), Path(index_dir) if index_dir is not None else None)
