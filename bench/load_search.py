"""Load benchmark: many concurrent clients on POST /v1/search against a real `qa serve` on 127.0.0.1.

    flock /tmp/qa-heavy.lock nice python bench/load_search.py --index index [--clients 50] [--seconds 60] [--out FILE]

Runs the same load twice in one invocation, each against its own fresh `qa serve` (uvicorn, one process, as
in production) over the given index with the index's own embedder:

- `unbatched`: every question embedded on its own (QA_EMBED_BATCH_MAX=1) and no bound on searches in
  progress (QA_SEARCH_MAX_WAIT_S and QA_SEARCH_QUEUE very large): the service as it was before micro-batching;
- `batched`: the settings as configured by default (micro-batching, the bound by expected wait
  QA_SEARCH_MAX_WAIT_S, the ceiling QA_SEARCH_QUEUE), or as given with --batch-max, --batch-wait-ms,
  --batch-workers, --search-max-wait-s and --search-queue.

`--clients` asyncio+httpx clients each send searches back to back (the eval set's questions, each client
starting at a different one) for `--seconds`, after `--warmup` seconds of lighter load. A client that gets 503
with Retry-After waits as told (what a well-behaved client does) and goes on. Prints one JSON object: per
variant the accepted requests, throughput, latency p50/p95/p99/max of the accepted ones, the 503s (count and
how fast they came), errors of any other kind (goal: none), and the server's resident memory (RSS) at start,
at the end and at its peak; then the batched/unbatched throughput ratio and the goals. The rate limit is
lifted for the run (one client address would otherwise be limited to QA_RATE_LIMIT).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from scale import code_version  # bench/scale.py, beside this script

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) in MB, and CPU seconds, of a process."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    out["cpu_s"] = (int(fields[11]) + int(fields[12])) / tick
    return {"rss_mb": round(out["VmRSS"], 1), "peak_rss_mb": round(out["VmHWM"], 1), "cpu_s": round(out["cpu_s"], 1)}


def embed_model_of(index: Path) -> str:
    return json.loads(((index / "current").resolve() / "manifest.json").read_text())["embed_model"]


# `qa serve` with the micro-batcher's worker threads set first (a constant of qa.embed, not a setting)
_SERVE_WITH_WORKERS = """
import sys, qa.embed
qa.embed.BATCH_WORKERS = int(sys.argv.pop(1))
from qa.cli import main
main()
"""


class Server:
    """`qa serve` in a child process; `env` adds QA_* settings; `batch_workers` overrides the batcher's threads."""

    def __init__(self, index: Path, env: dict[str, str] | None = None, log: Path | None = None,
                 batch_workers: int | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log or os.devnull, "wb")
        index = Path(index).resolve()  # the server runs in /tmp: a relative --index would point nowhere
        settings = {"QA_INDEX_DIR": str(index), "QA_EMBED_MODEL": embed_model_of(index), "QA_GENERATOR": "extractive",
                    "QA_PRELOAD_GENERATOR": "false", "QA_RATE_LIMIT": "100000000/minute", "QA_API_KEYS": "{}",
                    "QA_MEMBER_KEY_REQUIRED": "false", "QA_DATA_DIR": str(Path("/tmp") / f"qa-bench-data-{self.port}")}
        settings.update(env or {})
        start = ["-m", "qa.cli"] if batch_workers is None else ["-c", _SERVE_WITH_WORKERS, str(batch_workers)]
        self.proc = subprocess.Popen([sys.executable, *start, "serve", "--host", "127.0.0.1",
                                      "--port", str(self.port)], env={**os.environ, **settings}, cwd="/tmp",
                                     stdout=self.log, stderr=self.log)

    def wait_ready(self, timeout: float = 600, generator: bool = False) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=5)
                if r.status_code == 200 and (not generator or r.json()["generator"]["state"] != "loading"):
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit("the server did not become ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def summary(latencies: list[float]) -> dict:
    if not latencies:
        return {}
    a = np.asarray(latencies) * 1000
    out = {f"p{p}_ms": round(float(np.percentile(a, p)), 1) for p in (50, 95, 99)}
    return out | {"max_ms": round(float(a.max()), 1)}


async def drive(url: str, qs: list[str], clients: int, seconds: float, k: int, timeout: float) -> dict:
    latencies: list[float] = []
    refusals: list[float] = []  # 503 with Retry-After: how long the refusal took
    errors: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        async def one(i: int) -> None:
            n = i * 7
            while time.monotonic() < deadline:
                q = qs[n % len(qs)]
                n += 1
                started = time.perf_counter()
                try:
                    r = await client.post("/v1/search", json={"question": q, "k": k})
                except httpx.HTTPError as exc:
                    error(type(exc).__name__)
                    continue
                took = time.perf_counter() - started
                if r.status_code == 200 and r.json().get("hits"):
                    latencies.append(took)
                elif r.status_code == 503 and r.headers.get("Retry-After", "").isdigit():
                    refusals.append(took)
                    await asyncio.sleep(min(float(r.headers["Retry-After"]), max(0.0, deadline - time.monotonic())))
                else:
                    error(f"http {r.status_code}" + (" without Retry-After" if r.status_code == 503 else ""))

        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(clients)))
        elapsed = time.monotonic() - started
    refused = {"count": len(refusals)}
    if refusals:
        refused |= {k: v for k, v in summary(refusals).items() if k in ("p50_ms", "p95_ms", "max_ms")}
    return {"requests_ok": len(latencies), "refused_503_retry_after": refused, "errors": errors,
            "seconds": round(elapsed, 1), "throughput_rps": round(len(latencies) / elapsed, 2), **summary(latencies)}


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every HTTP benchmark has: the index served, the questions sent, where to write the result."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--out", type=Path, help="also write the result (JSON) to this file")
    return parser


VARIANTS = {
    # the service before micro-batching: each question embedded alone, every search accepted and queued
    "unbatched": {"QA_EMBED_BATCH_MAX": "1", "QA_SEARCH_MAX_WAIT_S": "1000000", "QA_SEARCH_QUEUE": "1000000"},
    "batched": {},  # the configured defaults, or --batch-max / --batch-wait-ms / --search-max-wait-s / --search-queue
}
GOALS = {"throughput_ratio": 2.0, "p95_ms": 1500}


def run_variant(name: str, env: dict[str, str], args, qs: list[str], index: Path) -> dict:
    workers = args.batch_workers if name == "batched" else None
    load_start = round(os.getloadavg()[0], 1)
    server = Server(index, env=env, log=Path("/tmp") / f"qa-bench-load-server-{name}.log", batch_workers=workers)
    try:
        ready_s = server.wait_ready()
        start_status = proc_status(server.proc.pid)
        if args.warmup:
            asyncio.run(drive(server.url, qs, min(args.clients, 4), args.warmup, args.k, args.timeout))
        result = asyncio.run(drive(server.url, qs, args.clients, args.seconds, args.k, args.timeout))
        end_status = proc_status(server.proc.pid)
        alive = httpx.get(f"{server.url}/readyz", timeout=10).status_code
    finally:
        server.stop()
    settings = env if workers is None else {**env, "batch_workers (qa.embed.BATCH_WORKERS)": workers}
    return {"variant": name, "settings": settings, "server_ready_s": round(ready_s, 1), **result,
            "server_start": start_status, "server_end": end_status, "readyz_after": alive,
            "load_average_start": load_start, "load_average_end": round(os.getloadavg()[0], 1)}


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before measuring")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--batch-max", type=int, help="QA_EMBED_BATCH_MAX of the batched variant")
    parser.add_argument("--batch-wait-ms", type=float, help="QA_EMBED_BATCH_WAIT_MS of the batched variant")
    parser.add_argument("--batch-workers", type=int, help="the micro-batcher's threads in the batched variant "
                        "(qa.embed.BATCH_WORKERS)")
    parser.add_argument("--search-max-wait-s", type=float, help="QA_SEARCH_MAX_WAIT_S of the batched variant")
    parser.add_argument("--search-queue", type=int, help="QA_SEARCH_QUEUE of the batched variant")
    args = parser.parse_args()

    index = args.index.resolve()
    qs = questions(args.questions)
    batched = {key: str(value) for key, value in (("QA_EMBED_BATCH_MAX", args.batch_max),
                                                   ("QA_EMBED_BATCH_WAIT_MS", args.batch_wait_ms),
                                                   ("QA_SEARCH_MAX_WAIT_S", args.search_max_wait_s),
                                                   ("QA_SEARCH_QUEUE", args.search_queue)) if value is not None}
    envs = {**VARIANTS, "batched": batched}
    runs = {name: run_variant(name, envs[name], args, qs, index) for name in args.variants}
    out = {"bench": "load_search", "index": str(index), "embed_model": embed_model_of(index), "clients": args.clients,
           "k": args.k, "runs": runs, "machine": f"{os.cpu_count()} cores", "code": code_version(ROOT)}
    if "batched" in runs and "unbatched" in runs:
        b, u = runs["batched"], runs["unbatched"]
        ratio = b["throughput_rps"] / u["throughput_rps"] if u["throughput_rps"] else None
        out["throughput_ratio"] = None if ratio is None else round(ratio, 2)
        out["goals"] = {"throughput_ratio >= 2": ratio is not None and ratio >= GOALS["throughput_ratio"],
                        "batched p95 of accepted <= 1.5 s": b.get("p95_ms", 1e9) <= GOALS["p95_ms"],
                        "no errors but 503 with Retry-After": not b["errors"] and not u["errors"],
                        "batched RSS end - start (MB)": round(b["server_end"]["rss_mb"] - b["server_start"]["rss_mb"], 1)}
    print(json.dumps(out))
    if args.out:
        with args.out.open("a") as f:
            f.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
