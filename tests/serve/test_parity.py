"""The server ranks as ``evaluate`` did (issues 33, 37): it offers exactly the methods the
evaluation reports (SASRec and every tuned hybrid included), and for each of them the
served top-10 of every test user equals evaluate's ``top10`` for the same example; a
hybrid's explanation adds up to its score."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from profilerec.serve.recommend import recommend_user


def test_the_evaluated_methods_are_served_under_their_names(state: Any, evaluation: Path) -> None:
    metrics = json.loads((evaluation / "metrics.json").read_text())
    assert set(state.methods()) == set(metrics["metrics"])
    assert {"sasrec", "hybrid", "hybrid+zs", "zs", "history+zs"} <= set(state.methods())
    for name in ("hybrid", "hybrid+zs"):  # evaluate's ID model and weight, and its label
        served, record = state.served[name], metrics["tuning"][name]
        assert (served.weight, served.id_model) == (record["chosen"]["weight"], record["id_model"])
        assert served.label == f"hybrid({record['id_model']} + {served.method.text_side}, " + (
            f"w={record['chosen']['weight']:g})"
        )


def test_every_served_method_ranks_as_evaluate_did(state: Any, evaluation: Path) -> None:
    differ = differing(state, pl.read_parquet(evaluation / "ranks.parquet"))
    assert differ == dict.fromkeys(state.methods(), 0), f"users that differ, of {len(state.users)}"


def test_a_refitted_evaluation_is_served_as_it_ranked(
    serve_parts: dict[str, Any], tmp_path: Path
) -> None:
    """``evaluate --refit`` ranks test with each ID model refitted on train + valid (the
    hybrid too, at the weight chosen with the train-only fit): the server refits the same."""
    from profilerec.data.dataset import Dataset
    from profilerec.evaluate.stage import EvaluateConfig, run_evaluate
    from profilerec.serve.load import build_state

    methods = ("itemknn", "sasrec", "mean_history", "hybrid")
    config = EvaluateConfig(methods=methods, tune=False, bootstrap=10, refit=True,
                            baseline_params={"sasrec": {"epochs": 3}})  # fmt: skip
    ds = Dataset.load(serve_parts["dataset"])
    run_evaluate(ds, serve_parts["embedder"], tmp_path, config, progress=False)
    st = build_state(ds.root, serve_parts["embedder"], evaluation=tmp_path)
    assert st.methods() == list(methods)
    differ = differing(st, pl.read_parquet(tmp_path / "ranks.parquet"))
    assert differ == dict.fromkeys(methods, 0), f"users that differ, of {len(st.users)}"


def differing(state: Any, ranks: pl.DataFrame) -> dict[str, int]:
    """Per served method, how many stored users' top-10 differ from ``ranks.parquet``'s."""
    differ = {}
    for method in state.methods():
        rows = ranks.filter(pl.col("method") == method).select("user_id", "top10").rows()
        expected = dict(rows)
        assert len(expected) == len(state.users), method
        differ[method] = sum(
            [state.ds.item_ids[i] for i in recommend_user(state, u, method, 10).items]
            != expected[u]
            for u in state.users
        )
    return differ


@pytest.mark.parametrize("name", ["hybrid", "hybrid+zs"])
def test_hybrid_explanations_add_up(state: Any, name: str) -> None:
    from profilerec.serve.ranked import build_output, stored_inputs

    tuned, out = state.served[name], state.outputs[name]
    if tuned.weight in (0.0, 1.0):  # the tuned weight serves one side's raw scores, said so
        why = recommend_user(state, state.users[0], name, 3).why
        assert all(w.endswith(f"(hybrid weight {tuned.weight:g})") for w in why)
    state.served[name] = dataclasses.replace(tuned, weight=0.3)  # a weight fusing both sides
    state.outputs[name] = build_output(state.served[name], stored_inputs(state))
    try:
        check_sums(state, name)
    finally:
        state.served[name], state.outputs[name] = tuned, out


def check_sums(st: Any, name: str) -> None:
    number = r"(-?\d+\.\d+|-?\d+)"
    pattern = re.compile(rf"fused {number} = {number} x {number} \(.*\) \+ {number} x {number} ")
    checked = 0
    for user in st.users[:20]:
        for why in recommend_user(st, user, name, 60).why:  # past the stored k: ranked anew
            found = pattern.match(why)
            assert found, why
            total, a, x, b, y = map(float, found.groups())
            assert a + b == pytest.approx(1.0)
            assert total == pytest.approx(a * x + b * y, abs=2e-3), why
            checked += 1
    assert checked == 20 * 60
