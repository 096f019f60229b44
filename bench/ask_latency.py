"""Latency of POST /v1/ask, one client, against a real `qa serve` on 127.0.0.1.

    python bench/ask_latency.py --generator extractive|embedded [--index index] [--every 1] [--out FILE]

Starts `qa serve` with the given generator (its model loaded at start-up), then asks the eval set's questions
one after another (every `--every`-th one) and prints one JSON object: latency p50/p95 per question language
and overall, answers, abstentions and errors. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import json
import time

import httpx

from load_search import Server, bench_parser, summary


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--generator", choices=("extractive", "embedded"), default="extractive")
    parser.add_argument("--every", type=int, default=1, help="ask every n-th question only")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rows[::args.every]
    server = Server(args.index, {"QA_GENERATOR": args.generator, "QA_PRELOAD_GENERATOR": "true"})
    try:
        ready_s = server.wait_ready(generator=True)
        by_lang: dict[str, list[float]] = {"nl": [], "fr": []}
        errors, abstained = 0, 0
        with httpx.Client(base_url=server.url, timeout=600) as client:
            for row in rows:
                started = time.perf_counter()
                r = client.post("/v1/ask", json={"question": row["question"], "generator": args.generator})
                if r.status_code != 200:
                    errors += 1
                    continue
                by_lang[row["lang"]].append(time.perf_counter() - started)
                abstained += bool(r.json().get("abstained"))
    finally:
        server.stop()
    result = {"bench": "ask_latency", "generator": args.generator, "server_ready_s": round(ready_s, 1),
              "questions": len(rows), "errors": errors, "abstained": abstained,
              "all": summary(by_lang["nl"] + by_lang["fr"]),
              **{lang: summary(values) for lang, values in by_lang.items()}}
    print(json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
