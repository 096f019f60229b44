"""The regression benchmark: question sets scored against an index, compared with saved baselines.

- `questions`: parse and validate a question set; which passages hold a question's evidence.
- `retrieval_scores`, `answer_scores`: recall@k, MRR, nDCG@10; evidence citation, key facts, abstention.
- `judge`: an optional LLM faithfulness score, never gated.
- `dialogues`: dialogue sets, first and later turns scored apart.
- `baselines`, `compare`: a run saved as a baseline, and a later run compared with it (regressions fail).
- `details`, `plots`, `report`: per-question JSON lines, PNG plots and report.md.
- `command`: `qa eval`, which wires these together.
"""
