"""Schemathesis against the app's own OpenAPI schema: every operation, fuzzed with a fixed seed and a bounded
number of examples, must never answer 5xx.

The app runs over a private copy of the test corpus and index (uploads, deletions and refreshes really run),
with an admin key on every call so the admin routes are reached too, the Ollama generator pointed at the
protocol test server (tests/ollama_server.py) and the embedded generator at the tiny test GGUF when it is
there: a fuzzed `"generator"` must get an answer or a clean 4xx, and a 503 would count as a failure.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, seed, settings  # noqa: E402  (schemathesis brings hypothesis)
from schemathesis.checks import not_a_server_error  # noqa: E402

from qa.api import create_app  # noqa: E402
from qa.api.auth import hash_key  # noqa: E402
from qa.service import QAService  # noqa: E402
from tests.conftest import make_settings  # noqa: E402

try:
    from tests.ollama_server import OllamaServer
except ImportError:  # tests/ is not a package: pytest put it on sys.path
    from ollama_server import OllamaServer

ADMIN = "admin-key-fuzz-0123456789"
SEED = 20240611
EXAMPLES = 15  # per operation and mode; ~15 operations: well under a minute on 2 cores
TINY_GGUF = Path.home() / ".cache" / "qa" / "models" / "smollm2-135m-instruct-q4_1.gguf"


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory, qa_corpus, qa_index):
    """Settings over private copies of the corpus and index, with a scripted Ollama server running."""
    tmp = tmp_path_factory.mktemp("fuzz")
    corpus, index = tmp / "corpus", tmp / "index"
    shutil.copytree(qa_corpus, corpus)
    shutil.copytree(qa_index, index, symlinks=True, ignore=shutil.ignore_patterns(".lock"))
    with OllamaServer(models={"qwen2.5:7b-instruct"},
                      reply=["Wie structureel thuiswerkt, krijgt maximaal 151,70 euro per maand [1]."]) as srv:
        extra = {"llm_path": TINY_GGUF} if TINY_GGUF.exists() else {}
        yield make_settings(corpus_dir=corpus, index_dir=index, data_dir=tmp / "data", ollama_url=srv.url,
                            ollama_timeout_s=20, api_keys={hash_key(ADMIN): "admin"}, rate_limit="1000000/minute",
                            max_upload_bytes=200_000, llm_threads=1, **extra)


@pytest.fixture
def fuzz_schema(fuzz_env):
    """The app's own schema (`app.openapi()`, what /openapi.json serves), calls going to the app in-process.

    One app per test: schemathesis starts its lifespan on the first call and ends it when the test ends."""
    app = create_app(fuzz_env, QAService.load(fuzz_env, fuzz_env.index_dir))
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.app = app
    yield schema
    app.state.qa.jobs.wait(60)  # a fuzzed refresh finishes before the next test or the folders go


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_server_errors(fuzz_schema, mode):
    """Every operation in turn, with data that fits the schema (positive) or breaks it (negative).

    The hypothesis test is built here from each operation's strategy: schemathesis' pytest plugin cannot
    resolve a schema from a fixture under pytest 9 (`from_fixture` fails on `Function._nodeid`)."""
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable
    from schemathesis.generation.modes import GenerationMode

    operations = _operations(fuzz_schema)
    assert len(operations) >= 12, [op.label for op in operations]
    failures: list[tuple] = []
    statuses: dict[tuple[str, int], int] = {}
    for operation in operations:
        @seed(SEED)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
        def run(case):
            response = case.call(headers={"Authorization": f"Bearer {ADMIN}"})
            key = (operation.label, response.status_code)
            statuses[key] = statuses.get(key, 0) + 1
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except Exception:  # collected, so that one failing operation does not hide the others
                failures.append((operation.label, response.status_code, response.text[:300], case.as_curl_command()))
                raise

        try:
            run()
        except Unsatisfiable:  # nothing to break: an operation without parameters or body has no negative case
            assert mode == "negative", operation.label
        except Exception:  # noqa: BLE001 - reported through `failures`
            if not failures or failures[-1][0] != operation.label:
                raise
    assert not failures, failures[:5]
    assert sum(statuses.values()) >= 3 * len(operations), statuses
    assert all(code < 500 for _, code in statuses), statuses
