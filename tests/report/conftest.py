"""Small, well-formed report inputs: a 6-user dataset, metrics, ranks and two profile sets.

Every user bought 14 items; the 14th is the test target. Ranks are fixed per method so
the expected marks are known by hand: ``zero_shot`` ranks the target 2nd,
``history+zero_shot`` 1st, ``popularity`` 7th (outside the top 5 shown) and
``history_text`` 40th (outside the top 10 stored).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from profilerec.data.dataset import Dataset
from profilerec.data.schema import (
    EXAMPLES_FILE,
    EXAMPLES_SCHEMA,
    INTERACTIONS_FILE,
    INTERACTIONS_SCHEMA,
    ITEMS_FILE,
    ITEMS_SCHEMA,
    MANIFEST_FILE,
)

N_USERS, SEQ_LEN, N_ITEMS = 6, 14, 40
TARGET_RANK = {"popularity": 7, "history_text": 40, "zero_shot": 2, "history+zero_shot": 1}
SCRIPT_PROFILE = "Likes <script>alert('x')</script> & travel-size soap."


def title(i: int) -> str:
    return "Soap & Water <travel size>" if i == 7 else f"Item {i:02d} title"


def sequence(u: int) -> list[int]:
    """User u's items, oldest first: 14 distinct catalogue indices."""
    return [(u * 5 + k * 3) % N_ITEMS for k in range(SEQ_LEN)]


def write_dataset(root: Path) -> Dataset:
    items = [
        {"item_id": f"I{i:02d}", "title": title(i), "description": "", "features": [],
         "categories": [], "store": "", "price": None, "details": "", "has_meta": True}
        for i in range(N_ITEMS)
    ]  # fmt: skip
    inter, examples = [], []
    for u in range(N_USERS):
        seq = [f"I{i:02d}" for i in sequence(u)]
        for k, item in enumerate(seq):
            inter.append({"user_id": f"u{u}", "item_id": item, "timestamp": 1000 * (k + 1),
                          "rating": 5.0, "review_title": "", "review_text": ""})  # fmt: skip
        examples.append(
            {"example_id": 100 + u, "user_id": f"u{u}", "item_id": seq[-1],
             "timestamp": 1000 * SEQ_LEN, "position": SEQ_LEN - 1, "history": seq[:-1],
             "history_len": SEQ_LEN - 1, "split": "test"}
        )  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(items, schema=ITEMS_SCHEMA), root / ITEMS_FILE)
    pq.write_table(
        pa.Table.from_pylist(inter, schema=INTERACTIONS_SCHEMA), root / INTERACTIONS_FILE
    )
    pq.write_table(pa.Table.from_pylist(examples, schema=EXAMPLES_SCHEMA), root / EXAMPLES_FILE)
    manifest = {"format": "amazon2023", "sources": [{"path": "/data/Toy_Soap.jsonl.gz"}]}
    (root / MANIFEST_FILE).write_text(json.dumps(manifest))
    return Dataset.load(root)


def make_ranks() -> pl.DataFrame:
    rows = []
    for method, rank in TARGET_RANK.items():
        for u in range(N_USERS):
            target = f"I{sequence(u)[-1]:02d}"
            others = [f"I{i:02d}" for i in range(N_ITEMS) if f"I{i:02d}" != target]
            top10 = others[:10]
            if rank <= 10:
                top10 = [*others[: rank - 1], target, *others[rank - 1 : 9]]
            rows.append({"method": method, "example_id": 100 + u, "user_id": f"u{u}",
                         "target_rank": rank, "top10": top10})  # fmt: skip
    return pl.DataFrame(rows)


def make_metrics() -> dict[str, Any]:
    # Hand-picked values: zero_shot is best on recall@10, history_text on ndcg@10,
    # and popularity on MRR; history+zero_shot lacks @50 metrics.
    values = {
        "popularity": {"recall@10": 0.01, "ndcg@10": 0.004, "recall@50": 0.03, "mrr": 0.9},
        "history_text": {"recall@10": 0.04, "ndcg@10": 0.08, "recall@50": 0.09, "mrr": 0.02},
        "zero_shot": {"recall@10": 0.05534, "ndcg@10": 0.0301, "recall@50": 0.1, "mrr": 0.03},
        "history+zero_shot": {"recall@10": 0.05, "ndcg@10": 0.03, "mrr": 0.03},
    }
    for v in values.values():
        v["hr@10"] = v["recall@10"]
    ci = {m: {k: [x * 0.5, x * 1.5] for k, x in v.items()} for m, v in values.items()}
    ci["zero_shot"]["recall@10"] = [0.0312, 0.0807]
    comparisons = [
        {"method": "history_text", "reference": "zero_shot", "metric": "ndcg@10",
         "mean_diff": 0.04991, "ci": [0.01, 0.09], "p_value": 0.0004, "detectable": 0.0283},
        {"method": "popularity", "reference": "zero_shot", "metric": "ndcg@10",
         "mean_diff": -0.0261, "ci": [-0.05, -0.002], "p_value": 0.03},
        {"method": "history+zero_shot", "reference": "zero_shot", "metric": "ndcg@10",
         "mean_diff": -0.0001, "ci": [-0.01, 0.01], "p_value": 0.9512},
    ]  # fmt: skip
    return {
        "metrics": values,
        "ci": ci,
        "reference": "zero_shot",
        "comparisons": comparisons,
        "split": "test",
        "n_examples": N_USERS,
        "n_items": N_ITEMS,
        "embedder": "tiny-embedder",
        "config": {"split": "test", "ks": [10, 50], "bootstrap": 1000},
    }


def make_profiles(method: str, text: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "example_id": [100 + u for u in range(N_USERS)],
            "user_id": [f"u{u}" for u in range(N_USERS)],
            "split": "test",
            "method": method,
            "profile": [f"{text} (user u{u})" for u in range(N_USERS)],
            "prompt": "[]",
        }
    )


@dataclass
class Inputs:
    dataset: Dataset
    metrics: dict[str, Any]
    ranks: pl.DataFrame
    profiles: dict[str, pl.DataFrame]
    #: Per user id: titles of the items bought, oldest first (the last is the target).
    titles: dict[str, list[str]]
    target_rank: dict[str, int]


@pytest.fixture(scope="session")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    """Read-only inputs shared by the report tests (the report never writes to them)."""
    return Inputs(
        dataset=write_dataset(tmp_path_factory.mktemp("report") / "Toy_Soap"),
        metrics=make_metrics(),
        ranks=make_ranks(),
        profiles={
            "zero_shot": make_profiles("zero_shot", SCRIPT_PROFILE),
            "blue": make_profiles("blue", "Buys soap every month."),
        },
        titles={f"u{u}": [title(i) for i in sequence(u)] for u in range(N_USERS)},
        target_rank=TARGET_RANK,
    )


LOG = [
    {"step": s, "reward": 0.1 * s, "reward_components": {"ndcg": 0.05 * s}, "kl": 0.01 * s,
     "completion_length": 100 - s, **({"valid_ndcg@10": 0.02} if s % 2 == 0 else {})}
    for s in range(4)
]  # fmt: skip


@pytest.fixture(scope="session")
def full_report(inputs: Inputs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report with every section: all users, a 4-step training log, a before/after pair."""
    from profilerec.report import write_report

    ranks = pl.concat(
        [
            inputs.ranks,
            # "blue" ranks every target 40th, so the before/after line reads "2 → 40".
            inputs.ranks.filter(pl.col("method") == "history_text").with_columns(
                method=pl.lit("blue")
            ),
        ]
    )
    return write_report(
        tmp_path_factory.mktemp("full") / "report.html",
        metrics=inputs.metrics,
        ranks=ranks,
        dataset=inputs.dataset,
        profiles=inputs.profiles,
        train_logs={"blue": LOG},
        before_after=[("zero_shot", "blue")],
        n_users=N_USERS,
        date="2025-01-31",
    )
