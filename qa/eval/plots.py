"""The PNG plots of `qa eval --report` (matplotlib, Agg backend: no display needed): retrieval per language and
per document, the recall@k curve, answers per language, latency, and before/after bars against a baseline."""

from __future__ import annotations

from pathlib import Path

from .answer_scores import ANSWER_METRICS, AnswerRecord
from .questions import LANGS, RETRIEVAL_METRICS
from .retrieval_scores import RetrievalRecord

SCOPES = (*LANGS, "all")
COLOURS = {"nl": "#e07b00", "fr": "#1f5fa8", "all": "#555555"}
RATE_METRICS = ANSWER_METRICS[:6]
MAX_K = 10


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, works without a display
    import matplotlib.pyplot as plt

    return plt


# ---------------------------------------------------------------- plots


def _grouped_bars(ax, metrics: list[str], series: dict[str, list[float | None]], colours: dict[str, str],
                  labels: bool = True) -> None:
    import numpy as np

    x = np.arange(len(metrics))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        heights = [0.0 if v is None else v for v in values]
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, heights, width, label=name,
                      color=colours.get(name))
        if labels:
            for bar, v in zip(bars, values):
                ax.annotate("n/a" if v is None else f"{v:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            ha="center", va="bottom", fontsize=7, xytext=(0, 1), textcoords="offset points")
    ax.set_xticks(x, metrics)
    ax.set_ylim(0, 1.1)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def _legend_below(ax, ncols: int, **kwargs) -> None:
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=ncols, fontsize=8, frameon=False, **kwargs)


def plot_retrieval_by_language(retrieval: dict, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.2))
    series = {f"{s} (n={retrieval[s]['questions']})": [retrieval[s][m] for m in RETRIEVAL_METRICS]
              for s in SCOPES if s in retrieval}
    colours = {f"{s} (n={retrieval[s]['questions']})": COLOURS[s] for s in SCOPES if s in retrieval}
    _grouped_bars(ax, list(RETRIEVAL_METRICS), series, colours)
    ax.set_title("Retrieval per language")
    ax.set_ylabel("score")
    _legend_below(ax, 3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_retrieval_by_document(retrieval: dict, path: Path) -> Path:
    import numpy as np

    plt = _pyplot()
    docs = list(retrieval.get("by_doc", {}))
    metrics = ("recall@1", "recall@5", "recall@10", "mrr")
    colours = dict(zip(metrics, ("#9ecae1", "#3182bd", "#08519c", "#e6550d")))
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.75 * max(1, len(docs))))
    y = np.arange(len(docs))
    height = 0.8 / len(metrics)
    for i, m in enumerate(metrics):
        values = [retrieval["by_doc"][d][m] for d in docs]
        bars = ax.barh(y + (i - (len(metrics) - 1) / 2) * height, values, height, label=m, color=colours[m])
        for bar, v in zip(bars, values):
            ax.annotate(f"{v:.2f}", (bar.get_width(), bar.get_y() + bar.get_height() / 2), va="center",
                        fontsize=6.5, xytext=(2, 0), textcoords="offset points")
    ax.set_yticks(y, [f"{_short(d)} (n={retrieval['by_doc'][d]['questions']})" for d in docs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title("Retrieval per document")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.04 - 0.5 / (1.2 + 0.75 * max(1, len(docs)))),
              ncols=len(metrics), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _label(metric: str) -> str:
    return metric.replace("_", "\n") + (" ↓" if metric == "false_abstain" else "")


def _short(name: str, width: int = 42) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def recall_curve(ranks: list[int | None], max_k: int = MAX_K) -> list[float]:
    """Share of questions with an evidence passage within the top k, for k = 1..max_k."""
    if not ranks:
        return []
    return [sum(r is not None and r <= k for r in ranks) / len(ranks) for k in range(1, max_k + 1)]


def plot_recall_curve(records: list[RetrievalRecord], path: Path,
                      baseline_ranks: dict[str, dict[str, int | None]] | None = None) -> Path:
    """`baseline_ranks`: scope -> {question id: rank} of the baseline; then one panel per scope, the baseline
    dashed next to this run."""
    plt = _pyplot()
    ks = list(range(1, MAX_K + 1))
    scopes = [s for s in SCOPES if any(scope_has(r, s) for r in records)]
    panels = scopes if baseline_ranks else ["together"]
    fig, axes = plt.subplots(1, len(panels), figsize=(7 if len(panels) == 1 else 4.4 * len(panels), 4.2),
                             squeeze=False, sharey=True)
    for ax, panel in zip(axes[0], panels):
        for scope in scopes if panel == "together" else [panel]:
            ranks = [r.rank for r in records if scope_has(r, scope)]
            ax.plot(ks, recall_curve(ranks), marker="o", color=COLOURS[scope],
                    label=f"{scope} (n={len(ranks)})" + (", this run" if baseline_ranks else ""))
            if baseline_ranks and baseline_ranks.get(scope):
                before = list(baseline_ranks[scope].values())
                ax.plot(ks, recall_curve(before), linestyle="--", marker="x", color="#999999",
                        label=f"{scope} (n={len(before)}), baseline")
        ax.set_xticks(ks)
        ax.set_xlabel("k (passages retrieved)")
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        if panel != "together":
            ax.set_title(panel, fontsize=10)
    axes[0][0].set_ylabel("recall@k")
    fig.suptitle("Recall@k: share of questions with an evidence passage in the top k", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def scope_has(record, scope: str) -> bool:
    return scope == "all" or record.lang == scope


def plot_answers_by_language(answers: dict, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    names = {s: f"{s} (n={answers[s]['questions']})" for s in SCOPES if s in answers}
    series = {names[s]: [answers[s][m] for m in RATE_METRICS] for s in names}
    _grouped_bars(ax, [_label(m) for m in RATE_METRICS], series,
                  {names[s]: COLOURS[s] for s in names})
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title("Answers per language (false abstain: lower is better)")
    ax.set_ylabel("share")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_latency(records: list[AnswerRecord], path: Path) -> Path:
    import numpy as np

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    all_ms = [r.ms for r in records]
    top = max(all_ms) if all_ms else 1.0
    bins = np.linspace(0, top * 1.02 + 1e-9, 30)
    langs = [lang for lang in LANGS if any(r.lang == lang for r in records)]
    if langs:
        ax.hist([[r.ms for r in records if r.lang == lang] for lang in langs], bins=bins, stacked=True,
                color=[COLOURS[lang] for lang in langs],
                label=[f"{lang} (n={sum(r.lang == lang for r in records)})" for lang in langs])
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for q, style in ((50, "-"), (95, "--")):
        if all_ms:
            v = float(np.percentile(all_ms, q))
            ax.axvline(v, color="black", linestyle=style, linewidth=1)
            ax.annotate(f"p{q} {v:.0f} ms", (v, 1), xycoords=("data", "axes fraction"), rotation=90,
                        va="top", ha="right", fontsize=8, xytext=(-2, -4), textcoords="offset points")
    ax.set_xlabel("answer time (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency (stacked by language)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_comparison(baseline_scores: dict, scores: dict, comparison, path: Path) -> Path:
    """Before/after bars per scope for every compared rate; a regressed metric's "after" bar is red."""
    import numpy as np

    plt = _pyplot()
    sections = [s for s in ("retrieval", "answers") if s in comparison.compared]
    metrics = {"retrieval": list(RETRIEVAL_METRICS), "answers": list(RATE_METRICS)}
    regressed = {(c.section, c.metric, c.scope) for c in comparison.regressions}
    scopes = [s for s in SCOPES if any(s in scores[sec] and s in baseline_scores[sec] for sec in sections)]
    fig, axes = plt.subplots(len(sections), len(scopes), figsize=(4.6 * len(scopes), 3.6 * len(sections)),
                             squeeze=False)
    for row, section in enumerate(sections):
        for col, scope in enumerate(scopes):
            ax = axes[row][col]
            b, a = baseline_scores[section].get(scope), scores[section].get(scope)
            if not a or not b:
                ax.set_visible(False)
                continue
            ms = metrics[section]
            x = np.arange(len(ms))
            colours = ["#d62728" if (section, m, scope) in regressed else "#2ca02c" for m in ms]
            for offset, values, colour in ((-0.2, [b.get(m) for m in ms], "#bbbbbb"),
                                           (0.2, [a.get(m) for m in ms], colours)):
                bars = ax.bar(x + offset, [v or 0.0 for v in values], 0.4, color=colour)
                for bar, v, m in zip(bars, values, ms):
                    red = offset > 0 and (section, m, scope) in regressed
                    ax.annotate("n/a" if v is None else f"{v:.2f}",
                                (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                                va="bottom", fontsize=5.5, xytext=(0, 1), textcoords="offset points",
                                color="#d62728" if red else "black", weight="bold" if red else "normal")
            ax.set_xticks(x, [_label(m) for m in ms], fontsize=6.5)
            ax.set_ylim(0, 1.18)
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
            ax.set_title(f"{section} [{scope}]", fontsize=10)
    from matplotlib.patches import Patch

    fig.suptitle("Before (baseline) / after (this run); ↓ lower is better")
    fig.legend(handles=[Patch(color="#bbbbbb", label="baseline"), Patch(color="#2ca02c", label="this run"),
                        Patch(color="#d62728", label="this run, regressed beyond tolerance")],
               loc="upper center", bbox_to_anchor=(0.5, 0.955), ncols=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

