"""Overload benchmark: more /v1/ask requests than the generation pool holds, with the embedded Qwen model.

    nice -n 19 python bench/overload_ask.py --index index [--burst 16] [--workers 1] [--queue 4] [--out FILE]

Starts `qa serve` (QA_GENERATOR=embedded: the real Qwen2.5-Coder-1.5B GGUF through llama-cpp-python) over the
index, waits until the model is loaded, then:

1. burst: `--burst` questions sent at the same instant. The pool holds `workers + queue` of them; every other
   one must be refused at once with 503 and a Retry-After header (goal: within 1 s), and every accepted one
   must finish before the client's timeout (nothing hangs). /readyz is polled meanwhile: `in_flight` must never
   exceed the capacity.
2. sustained: `--clients` clients ask back to back for `--seconds` (each honouring Retry-After by waiting
   `--retry-wait` seconds, shorter than the header so the pool stays full); same checks.
3. recovery: once the load stops, `in_flight` returns to 0 and a new question is answered (200).

The questions are the eval set's answerable Dutch questions asked with `"language": "fr"`: their evidence is
Dutch, so every answer has the model translate it into French (the embedded strategy only runs the model for
evidence in the other language; same-language evidence is quoted without it). Prints one JSON object with the
model's share of each answer (`generate_ms` from the answer's timings).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_search import Server, bench_parser, proc_status, summary  # noqa: E402


def dutch_questions(path: Path) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r["lang"] == "nl" and not r["unanswerable"]]


class Poller:
    """Polls /readyz: the largest `in_flight` seen and whether it ever went past the capacity."""

    def __init__(self, client: httpx.AsyncClient):
        self.client, self.max_in_flight, self.capacity, self.samples = client, 0, None, 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                answers = (await self.client.get("/readyz", timeout=5)).json()["answers"]
                self.max_in_flight = max(self.max_in_flight, answers["in_flight"])
                self.capacity = answers["capacity"]
                self.samples += 1
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            await asyncio.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()


async def ask(client: httpx.AsyncClient, question: str, timeout: float) -> dict:
    started = time.perf_counter()
    try:
        r = await client.post("/v1/ask", json={"question": question, "language": "fr"}, timeout=timeout)
        out = {"status": r.status_code, "s": time.perf_counter() - started,
               "retry_after": r.headers.get("Retry-After")}
        if r.status_code == 200:
            out["generate_s"] = r.json().get("timings_ms", {}).get("generate_ms", 0.0) / 1000
        return out
    except httpx.TimeoutException:
        return {"status": "timeout", "s": time.perf_counter() - started}
    except httpx.HTTPError as exc:
        return {"status": type(exc).__name__, "s": time.perf_counter() - started}


def tally(results: list[dict], timeout: float) -> dict:
    ok = [r["s"] for r in results if r["status"] == 200]
    busy = [r for r in results if r["status"] == 503]
    other = {}
    for r in results:
        if r["status"] not in (200, 503):
            other[str(r["status"])] = other.get(str(r["status"]), 0) + 1
    return {"sent": len(results), "answered": len(ok), "refused_503": len(busy), "other": other,
            "model_ran": sum(1 for r in results if r.get("generate_s", 0) > 0.05),
            "model_latency": summary([r["generate_s"] for r in results if r.get("generate_s", 0) > 0.05]),
            "answered_latency": summary(ok), "refusal_latency": summary([r["s"] for r in busy]),
            "refusals_within_1s": sum(1 for r in busy if r["s"] <= 1.0),
            "refusals_with_retry_after": sum(1 for r in busy if r.get("retry_after")),
            "hung_past_timeout": sum(1 for r in results if r["status"] == "timeout" or r["s"] > timeout)}


async def run(url: str, qs: list[str], args) -> dict:
    limits = httpx.Limits(max_connections=args.burst + args.clients + 4)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        poller = Poller(client)
        polling = asyncio.create_task(poller.run())

        # 1. burst
        started = time.perf_counter()
        burst = await asyncio.gather(*(ask(client, qs[i % len(qs)], args.timeout) for i in range(args.burst)))
        burst_s = time.perf_counter() - started

        # 2. sustained
        sustained: list[dict] = []
        deadline = time.monotonic() + args.seconds

        async def asker(i: int) -> None:
            n = i
            while time.monotonic() < deadline:
                r = await ask(client, qs[n % len(qs)], args.timeout)
                n += args.clients
                sustained.append(r)
                if r["status"] == 503:
                    await asyncio.sleep(args.retry_wait)

        await asyncio.gather(*(asker(i) for i in range(args.clients)))

        # 3. recovery
        stopped = time.perf_counter()
        while True:
            answers = (await client.get("/readyz")).json()["answers"]
            if answers["in_flight"] == 0 or time.perf_counter() - stopped > args.timeout:
                break
            await asyncio.sleep(0.2)
        drained_s = time.perf_counter() - stopped
        after = await ask(client, qs[0], args.timeout)
        poller.stop()
        await polling
    return {"burst": {**tally(burst, args.timeout), "seconds": round(burst_s, 1)},
            "sustained": {**tally(sustained, args.timeout), "clients": args.clients, "seconds": args.seconds},
            "max_in_flight_seen": poller.max_in_flight, "capacity": poller.capacity, "readyz_samples": poller.samples,
            "queue_bound_held": poller.max_in_flight <= (poller.capacity or 0),
            "recovery": {"drained_after_s": round(drained_s, 1), "in_flight_after": answers["in_flight"],
                         "next_answer_status": after["status"], "next_answer_s": round(after["s"], 1)}}


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--burst", type=int, default=16)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--queue", type=int, default=4)
    parser.add_argument("--retry-after", type=int, default=10)
    parser.add_argument("--retry-wait", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=300, help="client timeout of one request, seconds")
    parser.add_argument("--answer-timeout", type=float, default=120, help="QA_ANSWER_TIMEOUT_S of the server")
    parser.add_argument("--evidence-sentences", type=int, default=3,
                        help="QA_EVIDENCE_SENTENCES: sentences translated per answer (1 = one model call)")
    args = parser.parse_args()

    index = args.index.resolve()
    env = {"QA_GENERATOR": "embedded", "QA_PRELOAD_GENERATOR": "true", "QA_GENERATION_WORKERS": str(args.workers),
           "QA_GENERATION_QUEUE": str(args.queue), "QA_RETRY_AFTER_S": str(args.retry_after),
           "QA_ANSWER_TIMEOUT_S": str(args.answer_timeout), "QA_EVIDENCE_SENTENCES": str(args.evidence_sentences)}
    server = Server(index, env=env, log=Path("/tmp") / "qa-bench-overload-server.log")
    try:
        ready_s = server.wait_ready(generator=True)
        state = httpx.get(f"{server.url}/readyz").json()["generator"]
        if state["state"] != "ready":
            raise SystemExit(f"the embedded generator is not ready: {state}")
        start_status = proc_status(server.proc.pid)
        result = asyncio.run(run(server.url, dutch_questions(args.questions), args))
        end_status = proc_status(server.proc.pid)
    finally:
        server.stop()
    out = {"bench": "overload_ask", "index": str(index), "workers": args.workers, "queue": args.queue,
           "answer_timeout_s": args.answer_timeout, "evidence_sentences": args.evidence_sentences,
           "server_ready_s": round(ready_s, 1), **result, "server_start": start_status, "server_end": end_status}
    print(json.dumps(out))
    if args.out:
        with args.out.open("a") as f:
            f.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
