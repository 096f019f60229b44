"""The configured embedder's question embedding alone, by batch size (what micro-batching can gain at most).

    flock /tmp/qa-heavy.lock python bench/embed_batch.py [SIZES ...]   # default 1 4 8 16 32

The same 96 texts (the dense views the retriever embeds for the eval set's questions: the question, and the
question with its expansion terms when it has them) embedded in batches of each size, the sizes interleaved
over three rounds so that a busy moment of the machine hits all of them; prints one JSON line a size: wall and
CPU time per text (median of the rounds) and the searches a second that alone would allow.
"""
import json, sys, time
import numpy as np
import torch
from qa.config import Settings
from qa.embed import load_embedder
from qa.retrieve.retriever import query_views, RetrievalSettings
from qa.language import detect_language

qs = [json.loads(l)["question"] for l in open("eval/questions.jsonl") if l.strip()]
texts = []
for q in qs:
    try:
        lang = detect_language(q)
    except Exception:
        lang = "nl"
    texts += [v.text for v in query_views(q, lang if lang in ("nl", "fr") else "nl", RetrievalSettings()) if v.dense_weight > 0]
per_search = len(texts) / len(qs)
texts = texts[:96]
s = Settings(_env_file=None)
inner = load_embedder(s.embed_model, s.models_dir, s.embed_batch_size, s.embed_dtype)
enc = getattr(inner, "encode_queries", inner.embed_queries)
print(json.dumps({"texts_per_search": round(per_search, 2), "torch_threads": torch.get_num_threads(),
                  "dtype": s.embed_dtype}), flush=True)
enc(texts[:8])
sizes = [int(x) for x in sys.argv[1:]] or [1, 4, 8, 16, 32]
runs = {b: [] for b in sizes}
for r in range(3):
    for b in sizes:
        t, c = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), b):
            enc(texts[i:i + b])
        runs[b].append((1000 * (time.perf_counter() - t) / len(texts), 1000 * (time.process_time() - c) / len(texts)))
for b in sizes:
    wall = float(np.median([w for w, _ in runs[b]]))
    cpu = float(np.median([c for _, c in runs[b]]))
    print(json.dumps({"batch": b, "wall_ms_per_text": round(wall, 1), "cpu_ms_per_text": round(cpu, 1),
                      "walls": [round(w, 1) for w, _ in runs[b]], "searches_per_s": round(1000 / wall / per_search, 1)}),
          flush=True)
