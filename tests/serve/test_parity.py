"""The server ranks as ``evaluate`` did (issue 33): for every served method whose evaluated
counterpart is in ranks.parquet, the served top-10 of every test user equals evaluate's
``top10`` for the same example; the hybrid is served at the weight evaluate tuned; a hybrid's
explanation adds up to its score."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from profilerec.llm.base import GenerationConfig

#: served method -> evaluate's name for it ("zs" is the profile set)
SERVED_AS = {
    "profile:zs": "zs",
    "hybrid:zs": "hybrid+zs",
    "history_text": "history_text",
    "mean_history": "mean_history",
    "itemknn": "itemknn",
    "popularity": "popularity",
}


@pytest.fixture(scope="module")
def evaluated(
    demo_dataset: Path,
    tiny_lm_dir: Path,
    serve_parts: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, pl.DataFrame, dict[str, Any]]:
    """Tiny profiles of the valid and test splits, evaluated with item-kNN and the hybrid."""
    import json

    from profilerec.data.dataset import Dataset
    from profilerec.evaluate.stage import EvaluateConfig, run_evaluate
    from profilerec.llm import load_generator
    from profilerec.profile.stage import ProfileConfig, run_profile

    ds = Dataset.load(demo_dataset)
    root = tmp_path_factory.mktemp("parity")
    gen = load_generator(f"transformers:{tiny_lm_dir}", batch_size=64)
    config = ProfileConfig(splits=("valid", "test"), batch_size=64,
                           generation=GenerationConfig(max_new_tokens=8))  # fmt: skip
    run_profile(ds, gen, root / "zs", config, progress=False)
    profiles = pl.read_parquet(root / "zs" / "profiles.parquet")
    methods = ("popularity", "itemknn", "history_text", "mean_history", "hybrid")
    run_evaluate(ds, serve_parts["embedder"], root / "eval",
                 EvaluateConfig(methods=methods, tune=False, bootstrap=10),
                 {"zs": profiles}, progress=False)  # fmt: skip
    metrics = json.loads((root / "eval" / "metrics.json").read_text())
    return root / "zs", pl.read_parquet(root / "eval" / "ranks.parquet"), metrics


@pytest.fixture(scope="module")
def parity_state(serve_parts: dict[str, Any], evaluated: Any) -> Any:
    from profilerec.serve.state import build_state

    folder, _, metrics = evaluated
    weight = metrics["tuning"]["hybrid+zs"]["chosen"]["weight"]
    assert metrics["tuning"]["hybrid+zs"]["id_model"] == "itemknn"
    return build_state(serve_parts["dataset"], serve_parts["embedder"],
                       profiles={"zs": folder}, hybrid_weight=weight)  # fmt: skip


def test_every_served_method_ranks_as_evaluate_did(parity_state: Any, evaluated: Any) -> None:
    _, ranks, _ = evaluated
    st = parity_state
    assert set(SERVED_AS) == set(st.methods())
    differ = {}
    for served, name in SERVED_AS.items():
        expected = dict(ranks.filter(pl.col("method") == name).select("user_id", "top10").rows())
        assert len(expected) == len(st.users)
        differ[served] = sum(
            [st.ds.item_ids[i] for i in st.recommend_user(u, served, 10).items] != expected[u]
            for u in st.users
        )
    assert differ == dict.fromkeys(SERVED_AS, 0), f"users that differ, of {len(st.users)}"


def test_hybrid_explanations_add_up(parity_state: Any) -> None:
    st = parity_state
    tuned, st.hybrid_weight = st.hybrid_weight, 0.3  # a weight that fuses both sides
    try:
        check_sums(st)
    finally:
        st.hybrid_weight = tuned
    if tuned in (0.0, 1.0):  # the tuned weight serves one side's raw scores, said as such
        why = st.recommend_user(st.users[0], "hybrid:zs", 3).why
        assert all(w.endswith(f"(hybrid weight {tuned:g})") for w in why)


def check_sums(st: Any) -> None:
    number = r"(-?\d+\.\d+|-?\d+)"
    pattern = re.compile(
        rf"fused {number} = {number} x {number} \(item-kNN .*\) \+ {number} x {number} "
    )
    checked = 0
    for user in st.users[:20]:
        for why in st.recommend_user(user, "hybrid:zs", 10).why:
            found = pattern.match(why)
            assert found, why
            total, a, x, b, y = map(float, found.groups())
            assert a + b == pytest.approx(1.0)
            assert total == pytest.approx(a * x + b * y, abs=2e-3), why
            checked += 1
    assert checked == 200
