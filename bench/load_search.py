"""Load benchmark: many concurrent clients on POST /v1/search against a real `qa serve` on 127.0.0.1.

    nice -n 19 python bench/load_search.py --index index [--clients 50] [--seconds 60] [--out FILE]

Starts `qa serve` (uvicorn, one process, as in production) in a child process over the given index with the
index's own embedder, waits for /readyz, then runs `--clients` asyncio+httpx clients that each send searches
back to back (the eval set's questions, each client starting at a different one) for `--seconds`. Prints one
JSON object: requests, throughput, latency p50/p95/p99/max, errors by kind (goal: none), and the server's
resident memory (RSS) at start, at the end and at its peak. The rate limit is lifted for the run (one client
address would otherwise be limited to QA_RATE_LIMIT); nothing else is changed.
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


class Server:
    """`qa serve` in a child process; `env` adds QA_* settings."""

    def __init__(self, index: Path, env: dict[str, str] | None = None, log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log or os.devnull, "wb")
        settings = {"QA_INDEX_DIR": str(index), "QA_EMBED_MODEL": embed_model_of(index), "QA_GENERATOR": "extractive",
                    "QA_PRELOAD_GENERATOR": "false", "QA_RATE_LIMIT": "100000000/minute", "QA_API_KEYS": "{}",
                    "QA_MEMBER_KEY_REQUIRED": "false", "QA_DATA_DIR": str(Path("/tmp") / f"qa-bench-data-{self.port}")}
        settings.update(env or {})
        self.proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--host", "127.0.0.1",
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
    errors: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        async def one(i: int) -> None:
            n = i * 7
            while time.monotonic() < deadline:
                q = qs[n % len(qs)]
                n += 1
                started = time.perf_counter()
                try:
                    r = await client.post("/v1/search", json={"question": q, "k": k})
                    if r.status_code == 200 and r.json().get("hits"):
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors[f"http {r.status_code}"] = errors.get(f"http {r.status_code}", 0) + 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(clients)))
        elapsed = time.monotonic() - started
    return {"requests_ok": len(latencies), "errors": errors, "seconds": round(elapsed, 1),
            "throughput_rps": round(len(latencies) / elapsed, 2), **summary(latencies)}


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every HTTP benchmark has: the index served, the questions sent, where to write the result."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--out", type=Path, help="also write the result (JSON) to this file")
    return parser


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before measuring")
    parser.add_argument("--url", help="use a running server instead of starting one")
    args = parser.parse_args()

    index = args.index.resolve()
    qs = questions(args.questions)
    server = None if args.url else Server(index, log=Path("/tmp") / "qa-bench-load-server.log")
    try:
        url = args.url or server.url
        ready_s = server.wait_ready() if server else 0.0
        start_status = proc_status(server.proc.pid) if server else {}
        if args.warmup:
            asyncio.run(drive(url, qs, min(args.clients, 4), args.warmup, args.k, args.timeout))
        result = asyncio.run(drive(url, qs, args.clients, args.seconds, args.k, args.timeout))
        end_status = proc_status(server.proc.pid) if server else {}
        alive = httpx.get(f"{url}/readyz", timeout=10).status_code
    finally:
        if server:
            server.stop()
    out = {"bench": "load_search", "index": str(index), "embed_model": embed_model_of(index), "clients": args.clients,
           "k": args.k, "server_ready_s": round(ready_s, 1), **result,
           "server_start": start_status, "server_end": end_status, "readyz_after": alive,
           "goal_p95_ms": 500, "goal_met": result.get("p95_ms", 1e9) <= 500 and not result["errors"],
           "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end"}
    print(json.dumps(out))
    if args.out:
        with args.out.open("a") as f:
            f.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
