"""A small real HTTP server speaking the subset of the Ollama API that the `ollama` client uses.

    with OllamaServer(models={"qwen2.5:7b-instruct"}, reply=["Bon", "jour"]) as srv:
        Client(host=srv.url).chat(...)
        srv.requests  # [(path, json body), ...] as the client sent them

- `POST /api/show`: 200 with model details for a known model, else 404 `{"error": "model 'x' not found"}`.
- `POST /api/chat`: streamed as NDJSON over chunked transfer encoding (one message piece per line, then a
  final `done` line with counts) unless the body says `"stream": false`; 404 for an unknown model.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked replies, like the real server
    server: _Server

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/":
            self._send(200, "Ollama is running", "text/plain")
        else:
            self._send(404, "404 page not found", "text/plain")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.server.owner.requests.append((self.path, body))
        model = body.get("model", "")
        if self.path not in ("/api/show", "/api/chat"):
            self._send(404, "404 page not found", "text/plain")
        elif model not in self.server.owner.models:
            error = f"model '{model}' not found" if self.path == "/api/show" else \
                f'model "{model}" not found, try pulling it first'
            self._json(404, {"error": error})
        elif self.path == "/api/show":
            self._json(200, _show(model))
        elif body.get("stream", True):  # Ollama streams unless told otherwise
            self._stream_chat(model, body)
        else:
            self._json(200, _final(model, body, "".join(self.server.owner.reply)))

    def _stream_chat(self, model: str, body: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in self.server.owner.reply:
            self._chunk({"model": model, "created_at": _now(),
                         "message": {"role": "assistant", "content": piece}, "done": False})
        self._chunk(_final(model, body, ""))
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, obj: dict) -> None:
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _json(self, status: int, obj: dict) -> None:
        self._send(status, json.dumps(obj), "application/json; charset=utf-8")

    def _send(self, status: int, text: str, content_type: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _final(model: str, body: dict, content: str) -> dict:
    """The closing object of a chat reply (the whole reply when not streaming)."""
    prompt_chars = sum(len(m.get("content", "")) for m in body.get("messages", []))
    return {"model": model, "created_at": _now(), "message": {"role": "assistant", "content": content},
            "done": True, "done_reason": "stop", "total_duration": 1_000_000, "load_duration": 100_000,
            "prompt_eval_count": prompt_chars // 4, "prompt_eval_duration": 500_000,
            "eval_count": 3, "eval_duration": 400_000}


def _show(model: str) -> dict:
    return {"modelfile": f"FROM {model}\n", "parameters": "stop \"<|im_end|>\"",
            "template": "{{ .Prompt }}", "modified_at": "2025-01-01T00:00:00Z",
            "details": {"parent_model": "", "format": "gguf", "family": "qwen2", "families": ["qwen2"],
                        "parameter_size": "7.6B", "quantization_level": "Q4_K_M"},
            "model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768},
            "capabilities": ["completion"]}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: OllamaServer


class OllamaServer:
    """Runs on 127.0.0.1 at a free port in a background thread; `url` is its base URL."""

    def __init__(self, models: set[str] | frozenset[str] = frozenset({"qwen2.5:7b-instruct"}),
                 reply: list[str] | None = None) -> None:
        self.models = set(models)
        self.reply = list(reply if reply is not None else ["Hello", " world", "."])
        self.requests: list[tuple[str, dict]] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def bodies(self, path: str) -> list[dict]:
        return [body for p, body in self.requests if p == path]

    def __enter__(self) -> OllamaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
