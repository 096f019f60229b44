"""The generator interface and its two model back ends.

A `Generator` turns chat messages into text, streaming pieces to an optional callback:

- `LlamaCppGenerator` ("embedded"): a GGUF model run in-process by llama-cpp-python;
- `OllamaGenerator` ("ollama"): a model served by an Ollama server, through the official client.

Both decode greedily (temperature 0, fixed seed) so the same question gives the same answer, which the
regression benchmark relies on. Every failure a user can fix surfaces as a `GeneratorError` whose message
says what to do.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, runtime_checkable

import httpx
import ollama

if TYPE_CHECKING:
    from llama_cpp import Llama

    from qa.config import Settings

Messages = list[dict[str, str]]
OnToken = Callable[[str], None]

SEED = 42
# The embedded context window. One fixed size: llama-cpp-python creates model and context together, so a
# context sized per prompt would mean reloading the model per call. 4096 tokens hold a system prompt, five
# ~800-character passages and a long helpdesk draft with room to spare, for ~120 MB of KV cache (Qwen 1.5B).
# A prompt that does not fit is refused with an error, never silently truncated (llama_cpp would cut the
# answer short). A `llm_n_ctx` setting, if config.py gains one, overrides it.
EMBEDDED_N_CTX = 4096
# Ollama context: chars/3 over-estimates tokens for Dutch/French text (about 4 chars per token), so
# passages are never cut; the margin covers the chat template's role markers.
CHARS_PER_TOKEN = 3
OLLAMA_MARGIN_TOKENS = 256
OLLAMA_MIN_CTX = 4096
# Below this many shared tokens, saving and restoring a state costs more than it saves.
FIXED_PART_MIN_TOKENS = 32
# One state per prompt template in use (translate.fr, member.nl, ...): 12.6 MB for translate.fr's 439 tokens.
FIXED_PART_STATES = 8
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


class GeneratorError(Exception):
    """A generator cannot be used or failed; the message tells the user what to do."""


@runtime_checkable
class Generator(Protocol):
    name: str

    def check(self) -> None:
        """Raise GeneratorError if the generator cannot answer (model missing, server down)."""

    def complete(self, messages: Messages, *, max_tokens: int = 256, on_token: OnToken | None = None) -> str:
        """Greedy chat completion; calls `on_token` with each streamed piece; returns the whole text."""


def estimate_tokens(messages: Messages) -> int:
    """A safe upper estimate of the prompt's tokens without a tokenizer."""
    chars = sum(len(m.get("content", "")) for m in messages)
    return math.ceil(chars / CHARS_PER_TOKEN) + 8 * len(messages)  # + role markers per message


def count_tokens(messages: Messages, generator: Generator | None = None) -> int:
    """Prompt tokens: exact when the generator has a tokenizer, else `estimate_tokens`."""
    counter = getattr(generator, "count_tokens", None)
    return counter(messages) if counter else estimate_tokens(messages)


def make_generator(name: str, settings: Settings) -> Generator:
    if name == "embedded":
        return LlamaCppGenerator(settings.llm_path or default_llm_path(settings), threads=settings.llm_threads,
                                 n_ctx=getattr(settings, "llm_n_ctx", EMBEDDED_N_CTX))
    if name == "ollama":
        return OllamaGenerator(settings.ollama_url, settings.ollama_model, timeout_s=settings.ollama_timeout_s)
    raise GeneratorError(f"unknown generator {name!r}; use 'embedded' or 'ollama'")


def default_llm_path(settings: Settings) -> Path:
    """The fetched Qwen GGUF; qa.models owns the file names when it is available."""
    try:
        from qa.model_files import model_path
    except ImportError:
        return Path(settings.models_dir) / QWEN_FILE
    return Path(model_path("qwen", settings.models_dir))


# --- embedded: llama.cpp in-process -----------------------------------------------------------------


class LlamaCppGenerator:
    name = "embedded"

    def __init__(self, path: str | Path, *, threads: int = 2, n_ctx: int = EMBEDDED_N_CTX) -> None:
        self.path = Path(path)
        self.threads = threads
        self.n_ctx = n_ctx
        # One lock for loading and generating: a llama context is not re-entrant, and a second thread
        # must not start a second (1 GB) load while the first is under way.
        self._lock = threading.Lock()
        self._llm: Llama | None = None
        self._formatter: Any = None
        self._states: dict[tuple[int, ...], Any] = {}  # fixed prompt part -> llama state after it

    def check(self) -> None:
        with self._lock:
            self._load()  # loading is the only real proof that the file is a usable model

    def count_tokens(self, messages: Messages) -> int:
        """Exact prompt tokens: the model's own chat template, tokenized by its tokenizer."""
        with self._lock:
            return len(self._prompt_tokens(self._load(), messages))

    def complete(self, messages: Messages, *, max_tokens: int = 256, on_token: OnToken | None = None) -> str:
        with self._lock:
            llm = self._load()
            tokens = self._prompt_tokens(llm, messages)
            n_prompt = len(tokens)
            if n_prompt + max_tokens > self.n_ctx:
                raise GeneratorError(
                    f"the prompt ({n_prompt} tokens) plus the answer ({max_tokens} tokens) does not fit in the "
                    f"embedded model's context of {self.n_ctx} tokens; ask with fewer passages (a smaller k)")
            self._start_from_fixed_part(llm, messages, tokens)
            stream = llm.create_chat_completion(messages, temperature=0.0, max_tokens=max_tokens,
                                                stream=True, seed=SEED)
            return _collect((c["choices"][0]["delta"].get("content") for c in stream), on_token)

    def _start_from_fixed_part(self, llm: Llama, messages: Messages, tokens: list[int]) -> None:
        """Put the context at the end of the prompt's fixed part (system text and worked examples), so only
        the last turn is evaluated: a translation prompt's ~400 fixed tokens cost ~4 s each time otherwise.

        The fixed part is evaluated once, on its own, and its state saved; every call starts from that same
        state. Reusing whatever the previous prompt left instead would evaluate the rest in other batches,
        and the changed float rounding flips greedy choices: answers must be reproducible."""
        fixed = self._fixed_tokens(llm, messages)
        if len(fixed) < FIXED_PART_MIN_TOKENS or tokens[:len(fixed)] != fixed:
            llm.reset()
            return
        key = tuple(fixed)
        state = self._states.get(key)
        if state is None:
            llm.reset()
            llm.eval(fixed)
            state = self._states[key] = llm.save_state()
            while len(self._states) > FIXED_PART_STATES:
                self._states.pop(next(iter(self._states)))
        else:
            llm.load_state(state)

    def _fixed_tokens(self, llm: Llama, messages: Messages) -> list[int]:
        """The tokens every prompt of this template shares: those two different last turns have in common."""
        a = self._prompt_tokens(llm, [*messages[:-1], {"role": messages[-1]["role"], "content": "a"}])
        b = self._prompt_tokens(llm, [*messages[:-1], {"role": messages[-1]["role"], "content": "b"}])
        n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return a[:n]

    def _load(self) -> Llama:
        """Load the model once (caller holds the lock)."""
        if self._llm is not None:
            return self._llm
        if not self.path.is_file():
            raise GeneratorError(f"model file {self.path} is missing; run `qa models fetch`")
        try:
            from llama_cpp import Llama
        except (ImportError, OSError) as e:  # OSError: the compiled library does not load
            raise GeneratorError("the embedded generator needs llama-cpp-python: pip install 'qa[embedded]'") from e
        try:
            llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.threads, seed=SEED,
                        verbose=False)
        except (ValueError, RuntimeError) as e:
            raise GeneratorError(f"could not load {self.path} ({e}); run `qa models fetch` to re-assemble it") from e
        self._formatter = _chat_formatter(llm, self.path)
        # Generate with the same formatter we count with, so the size check is exact.
        llm.chat_handler = self._formatter.to_chat_handler()
        self._llm = llm
        return llm

    def _prompt_tokens(self, llm: Llama, messages: Messages) -> list[int]:
        # Mirrors llama_cpp's chat_formatter_to_chat_completion_handler.
        result = self._formatter(messages=messages)
        return llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)


def _chat_formatter(llm: Llama, path: Path) -> Any:
    """The GGUF's own Jinja chat template (llama_cpp's fallback 'llama-2' format would be wrong)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise GeneratorError(f"{path} has no chat template; use an instruct model GGUF")

    def text(token: int) -> str:  # -1: the model has no such token (Qwen has no BOS)
        return llm.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""

    eos = llm.token_eos()
    return Jinja2ChatFormatter(template=template, eos_token=text(eos), bos_token=text(llm.token_bos()),
                               stop_token_ids=[eos])


# --- ollama: a model on an Ollama server -------------------------------------------------------------


def ollama_num_ctx(messages: Messages, max_tokens: int) -> int:
    """A context that surely holds prompt + answer, as a power of two (Ollama reloads the model when num_ctx
    changes, so few distinct sizes keep reloads rare). Always sent: Ollama's default context (2048-4096
    tokens depending on version) silently drops the start of a longer prompt - the retrieved passages."""
    need = estimate_tokens(messages) + max_tokens + OLLAMA_MARGIN_TOKENS
    return max(OLLAMA_MIN_CTX, 1 << (need - 1).bit_length())


class OllamaGenerator:
    name = "ollama"

    def __init__(self, url: str, model: str, *, timeout_s: float = 120.0) -> None:
        self.url, self.model = url, model
        self._client = ollama.Client(host=url, timeout=timeout_s)

    def check(self) -> None:
        with self._errors():
            self._client.show(self.model)

    def complete(self, messages: Messages, *, max_tokens: int = 256, on_token: OnToken | None = None) -> str:
        options = {"num_ctx": ollama_num_ctx(messages, max_tokens), "num_predict": max_tokens,
                   "temperature": 0, "seed": SEED}
        with self._errors():
            stream = self._client.chat(self.model, messages, stream=True, options=options)
            return _collect((part.message.content for part in stream), on_token)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn the client's exceptions into GeneratorErrors that say what to do."""
        where = f"the Ollama server at {self.url}"
        try:
            yield
        except ollama.ResponseError as e:
            if e.status_code == 404:
                raise GeneratorError(f"model {self.model} is not on {where}; run `ollama pull {self.model}`") from e
            raise GeneratorError(f"{where} refused the request: {e.error}") from e
        except httpx.TimeoutException as e:
            raise GeneratorError(f"{where} did not answer in time") from e
        except (ConnectionError, httpx.TransportError) as e:
            # The client maps connect failures to ConnectionError, but not while streaming.
            raise GeneratorError(f"cannot reach {where}; is it running (`ollama serve`)?") from e


def _collect(pieces: Any, on_token: OnToken | None) -> str:
    """Join streamed pieces, passing each non-empty one to `on_token` as it arrives."""
    out = []
    for piece in pieces:
        if piece:
            out.append(piece)
            if on_token:
                on_token(piece)
    return "".join(out)
