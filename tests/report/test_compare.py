"""``profilerec compare`` on hand-made metrics.json / ranks.parquet: the table, a verdict per
method against the best ID baseline, paired tests, and the in-place rewrite of a page block."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from profilerec.errors import UserError
from profilerec.report.compare import (
    markers,
    paired,
    paired_table,
    replace_block,
    results_table,
    section,
    slice_examples,
    slice_table,
)


def row(method: str, metric: str, diff: float, lo: float, hi: float, p: float) -> dict[str, Any]:
    return {
        "method": method,
        "reference": "sasrec",
        "metric": metric,
        "mean_diff": diff,
        "ci": [lo, hi],
        "p_value": p,
        "detectable": 0.0123,
    }


def metrics() -> dict[str, Any]:
    values = {
        "popularity": {"recall@10": 0.05, "ndcg@10": 0.02},
        "sasrec": {"recall@10": 0.14, "ndcg@10": 0.10},
        "mean_history": {"recall@10": 0.13, "ndcg@10": 0.095},
        "hybrid": {"recall@10": 0.16, "ndcg@10": 0.11},
        "zero_shot": {"recall@10": 0.04, "ndcg@10": 0.03},
    }
    ci = {m: {k: [v - 0.01, v + 0.01] for k, v in vs.items()} for m, vs in values.items()}
    return {
        "split": "test",
        "n_examples": 4533,
        "n_items": 3686,
        "embedder": "minilm",
        "resampled": "users",
        "metrics": values,
        "ci": ci,
        "best_id_baseline": "sasrec",
        "tuning": {
            "hybrid": {
                "id_model": "sasrec",
                "text_method": "mean_history",
                "chosen": {"weight": 0.4},
            }
        },
        "comparisons_vs_best_id": [
            row("popularity", "ndcg@10", -0.08, -0.09, -0.07, 0.002),
            row("mean_history", "ndcg@10", -0.005, -0.012, 0.002, 0.2),
            row("hybrid", "ndcg@10", 0.01, 0.006, 0.014, 0.002),
            row("hybrid", "recall@10", 0.02, 0.01, 0.03, 0.002),
            row("zero_shot", "ndcg@10", -0.07, -0.08, -0.06, 0.002),
        ],
        "slices": {
            "overall": {"n": 4533, "metrics": {}, "ci": {}},
            "cold_items": {
                "n": 7,
                "metrics": {"sasrec": {"ndcg@10": 0.05}},
                "ci": {"sasrec": {"ndcg@10": [0.01, 0.09]}},
            },
        },
    }


def test_table_marks_the_best_id_and_says_above_level_below() -> None:
    text = results_table(metrics())
    lines = text.splitlines()
    assert lines[0].startswith(
        "| method | recall@10 [95% CI] | ndcg@10 [95% CI] | ndcg@10 − sasrec"
    )
    assert "| **sasrec** (best ID) | 0.1400 [0.1300, 0.1500] |" in text
    assert "| hybrid(sasrec + mean_history, w=0.4) |" in text
    by_method = {line.split(" | ")[0].lstrip("| "): line for line in lines[2:]}
    assert by_method["popularity"].endswith("| below sasrec |")
    assert by_method["mean_history"].endswith("| level with sasrec (could detect 0.0123) |")
    assert by_method["hybrid(sasrec + mean_history, w=0.4)"].endswith("| above sasrec |")
    assert "+0.0100 [+0.0060, +0.0140], 0.002" in by_method["hybrid(sasrec + mean_history, w=0.4)"]


def test_section_and_slices_without_a_best_id() -> None:
    text = section(metrics())
    assert text.startswith("test split, 4,533 examples, 3,686 items, embedder `minilm`")
    assert "users resampled" in text
    assert "Best method on test NDCG@10: hybrid(sasrec + mean_history, w=0.4)" in text
    assert "No LLM method is significantly above sasrec." in text
    bare = {"metrics": {"a": {"ndcg@10": 0.1}}, "ci": {}}
    assert "verdict" not in results_table(bare) and "Best method" not in section(bare)
    assert "| sasrec | 0.0500 [0.0100, 0.0900] |" in slice_table(metrics())
    assert "overall" not in slice_table(metrics())
    with pytest.raises(UserError, match="metrics"):
        results_table({"metrics": {}})


def ranks() -> pl.DataFrame:
    rows = []
    for i in range(20):
        user = f"u{i // 2}"  # two examples per user
        rows.append(("good", i, user, 1))
        rows.append(("bad", i, user, 500))
    return pl.DataFrame(
        rows, schema=["method", "example_id", "user_id", "target_rank"], orient="row"
    )


def test_paired_from_ranks_by_example_and_by_user() -> None:
    found = paired(ranks(), "good", "bad")
    assert [p.metric for p in found] == ["recall@10", "ndcg@10"]
    assert found[0].mean_diff == pytest.approx(1.0) and found[0].n == 20
    assert found[0].p_value < 0.01
    assert paired(ranks(), "good", "bad", by_user=True)[0].n == 10
    other = ranks().with_columns(pl.lit(1).alias("target_rank"))
    assert paired(ranks(), "bad", "bad", reference_ranks=other)[0].mean_diff == pytest.approx(-1.0)
    with pytest.raises(UserError, match="'nope' is not evaluated"):
        paired(ranks(), "nope", "bad")


def test_replace_block_rewrites_only_its_block() -> None:
    begin, end = markers("Gift")
    page = f"# Results\n\nintro\n\n{begin}\nold table\n{end}\n\nafter\n"
    new = replace_block(page, "Gift", "new table\n")
    assert new == f"# Results\n\nintro\n\n{begin}\nnew table\n{end}\n\nafter\n"
    assert replace_block(new, "Gift", "new table") == new
    with pytest.raises(UserError, match="found no"):
        replace_block(page, "Other", "x")
    with pytest.raises(UserError, match="found 2"):
        replace_block(page + page, "Gift", "x")


def test_cli_writes_the_block_and_runs_paired_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bad_input._cli import run_cli
    from profilerec.cli.compare import compare

    run = tmp_path / "eval"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps(metrics()))
    ranks().write_parquet(run / "ranks.parquet")
    begin, end = markers("Demo")
    page = tmp_path / "results.md"
    page.write_text(f"# Results\n\n{begin}\n(placeholder)\n{end}\n\nnotes stay\n")

    # One run as a user does (a subprocess: slow on a loaded machine, so only one).
    done = run_cli("compare", run, "--write", page, "--name", "Demo", "--slices", timeout=600)
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    assert "(placeholder)" not in text and text.endswith(f"{end}\n\nnotes stay\n")
    assert "| **sasrec** (best ID) |" in text and "NDCG@10 per slice" in text

    # The rest in process: the command function with every option given.
    options: dict[str, Any] = dict(
        pair=None, k=10, by_user=False, reference_from=None, dataset=None, metric=None,
        slices=False, write=None, name=None,
    )  # fmt: skip
    compare(run, **{**options, "pair": ["good:bad"], "by_user": True})
    shown = capsys.readouterr().out
    assert "| good | bad | ndcg@10 | +1.0000" in shown and "| 10 |" in shown
    assert "| good | bad | recall@10 |" in shown
    # --metric keeps only those metrics in the paired table too (a shorter results page)
    compare(run, **{**options, "pair": ["good:bad"], "metric": ["ndcg@10"]})
    shown = capsys.readouterr().out
    assert "| good | bad | ndcg@10 |" in shown and "| good | bad | recall@10 |" not in shown
    compare(run, **{**options, "pair": ["good:bad"], "metric": ["mrr"]})
    assert "| good | bad | recall@10 |" in capsys.readouterr().out
    with pytest.raises(UserError, match=r"no metrics\.json"):
        compare(tmp_path, **options)
    with pytest.raises(UserError, match="expected METHOD:REFERENCE"):
        compare(run, **{**options, "pair": ["good"]})
    with pytest.raises(UserError, match="--dataset only slices"):
        compare(run, **{**options, "dataset": tmp_path})
    with pytest.raises(UserError, match="found no"):
        compare(run, **{**options, "write": page, "name": "Other"})


def test_slices_of_a_pte_run_come_from_slices_json(tmp_path: Path) -> None:
    from profilerec.cli.compare import _slice_parts

    part = {"n": 3, "metrics": {"sasrec+pte": {"ndcg@10": 0.2}}, "ci": {}}
    (tmp_path / "slices.json").write_text(json.dumps({"overall": part, "tail_items": part}))
    parts = _slice_parts(tmp_path, {"metrics": {}}, ["ndcg@10"])
    assert parts[0] == "Slice tail_items (3 examples):" and len(parts) == 2
    assert "| sasrec+pte | 0.2000 |" in parts[1]
    assert _slice_parts(tmp_path / "none", {"metrics": {}}, ["ndcg@10"]) == []
    # a ProEx / PtE run's metrics.json lists only the slice sizes: slices.json is read
    sizes = {"metrics": {}, "slices": {"overall": 3, "tail_items": 3}}
    assert _slice_parts(tmp_path, sizes, ["ndcg@10"]) == parts


def test_paired_per_slice_uses_evaluates_own_slices(tmp_path: Path) -> None:
    from _datasets import write_dataset

    # "a" is bought by every user (warm); "z" only once, as u0's test target (cold).
    sequences = {f"u{i}": ["a", f"b{i}", "c", "a" if i else "z"] for i in range(6)}
    ds = write_dataset(tmp_path / "data", sequences)
    result = {"config": {"split": "test", "cold_item_max": 1, "short_history_max": 2}}
    by_slice = slice_examples(ds, result)
    test = ds.split("test").sort("example_id")
    assert by_slice["overall"] == test["example_id"].to_list()
    cold = test.filter(test["item_id"] == "z")["example_id"].to_list()
    assert by_slice["cold_items"] == cold and by_slice["short_history"] == []

    ids = test["example_id"].to_list()
    frame = pl.DataFrame(
        [("good", i, f"u{n}", 1) for n, i in enumerate(ids)]
        + [("bad", i, f"u{n}", 99) for n, i in enumerate(ids)],
        schema=["method", "example_id", "user_id", "target_rank"],
        orient="row",
    )
    rows = paired(frame, "good", "bad", slices=by_slice)
    assert {p.slice for p in rows} == {"overall", "cold_items", "tail_items", "rest"} - {
        name for name, members in by_slice.items() if not members
    }
    assert [p.n for p in rows if p.slice == "cold_items"] == [1, 1]
    table = paired_table(rows)
    assert table.startswith("| slice | method | vs |") and "| cold_items | good | bad |" in table
    assert not paired_table(paired(frame, "good", "bad")).startswith("| slice")
