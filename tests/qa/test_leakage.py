"""No QA prompt holds the target's rating or review, nor any item at or after the target.

The QA extension of tests/profile/test_leakage.py: every prompt the qa stage builds (each
task, each context) on the demo data. Every interaction gets a unique review title, review
text and rating, so a leak of the target's (or a later) review or rating is a string match.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.qa.config import TASKS, QAConfig
from profilerec.qa.prompts import build_contexts, questions, task_prompts


def marked(demo: Path, out: Path) -> Dataset:
    """The demo dataset, interaction k reviewed ``S#k#`` / ``T#k#`` and rated ``1 + k/1e5``."""
    ds = Dataset.load(demo)
    inter = ds.interactions.with_row_index("k").with_columns(
        pl.format("S#{}#", "k").alias("review_title"),
        pl.format("T#{}#", "k").alias("review_text"),
        (1 + pl.col("k").cast(pl.Float64) / 1e5)
        .cast(ds.interactions["rating"].dtype)
        .alias("rating"),
    )
    out.mkdir()
    for name in ("items.parquet", "examples.parquet", "manifest.json"):
        (out / name).write_bytes((demo / name).read_bytes())
    inter.drop("k").write_parquet(out / "interactions.parquet")
    return Dataset.load(out)


def marks(row: dict[str, object]) -> list[str]:
    return [str(row["review_title"]), str(row["review_text"]), f"rated {row['rating']:g}/5"]


def test_no_qa_prompt_holds_the_target_review_rating_or_a_later_item(
    demo_dataset: Path, tmp_path: Path
) -> None:
    ds = marked(demo_dataset, tmp_path / "marked")
    examples = ds.examples.sort("example_id").head(400)  # every split: train targets too
    inter = ds.interactions
    by_user = {u: g.sort("timestamp") for (u,), g in inter.group_by("user_id")}
    config = QAConfig(tasks=TASKS, item_chars=400)
    titles = dict(ds.items.select("item_id", "title").iter_rows())
    profiles = {"p": [f"profile {e}" for e in examples["example_id"]]}
    contexts = build_contexts(ds, examples, profiles, config)
    by_task = {t: questions(t, examples, titles, config) for t in TASKS}
    checked = shown_marks = 0
    for row, ex in enumerate(examples.iter_rows(named=True)):
        user = by_user[ex["user_id"]]
        later = user.filter(pl.col("timestamp") >= ex["timestamp"]).to_dicts()
        past = user.filter(pl.col("timestamp") < ex["timestamp"]).to_dicts()
        shown = {titles[i] for i in ex["history"]}
        shown_marks += sum(m in contexts["history"][row] for p in past[-3:] for m in marks(p)[:1])
        for name, ctx in contexts.items():
            context = json.dumps(ctx[row], ensure_ascii=False)
            for task, asked in by_task.items():
                text = json.dumps(task_prompts([ctx[row]], [asked[row]])[0], ensure_ascii=False)
                for item in later:  # the target and everything after it
                    assert not any(m in text for m in marks(item)), (name, task, ex["example_id"])
                    title = json.dumps(titles[item["item_id"]], ensure_ascii=False)[1:-1]
                    if titles[item["item_id"]] in shown:  # same title as a shown item: legitimate
                        continue
                    assert title not in context, (name, ex["example_id"], item["item_id"])
                    if item["item_id"] != ex["item_id"]:  # a question names only its target
                        assert title not in text, (name, task, ex["example_id"], item["item_id"])
                    checked += 1
    assert checked > 5000
    assert shown_marks > 300  # the history context does show past reviews: the check can fail
