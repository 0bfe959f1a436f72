"""evaluate with the ID baselines and the hybrid: what metrics.json records."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from _datasets import write_dataset
from profilerec.evaluate.stage import METRICS_FILE, EvaluateConfig, run_evaluate

# Four pairs always bought together (a_i then b_i). User t{i}{k} trains on pair i, then
# validates on a_j and is tested on b_j (j = i + 1 mod 4): in training, b_j co-occurs with
# a_j only, so co-occurrence ranks the test target first for every user.
SEQUENCES = {
    f"t{i}{k}": [f"a{i}", f"b{i}", f"a{(i + 1) % 4}", f"b{(i + 1) % 4}"]
    for i in range(4)
    for k in range(3)
}
CATALOGUE = [*(f"{p}{i}" for i in range(4) for p in "ab"), *(f"n{i}" for i in range(8))]


class LetterEmbedder:
    """Bag of letters: enough text signal for mean_history, no model to load."""

    model_id = "letters"
    dim = 26

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    out[row, ord(ch) - 97] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1)


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread: None) -> None:
    """One torch thread."""


def test_metrics_json_records_tuning_best_id_and_slices(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds", SEQUENCES, catalogue=CATALOGUE)
    methods = ("popularity", "cooccurrence", "itemknn", "mean_history", "hybrid")
    config = EvaluateConfig(methods=methods, bootstrap=50)
    result = run_evaluate(ds, LetterEmbedder(), tmp_path / "out", config, progress=False)
    saved = json.loads((tmp_path / "out" / METRICS_FILE).read_text())
    assert set(saved["metrics"]) == set(methods)
    tuning = saved["tuning"]
    assert tuning["itemknn"]["grid"] and len(tuning["itemknn"]["trials"]) > 1
    best = max(("popularity", "cooccurrence", "itemknn"), key=lambda n: tuning[n]["valid_ndcg@10"])
    assert saved["best_id_baseline"] == best
    assert tuning["hybrid"]["id_model"] == best
    assert tuning["hybrid"]["chosen"]["weight"] in tuning["hybrid"]["grid"]["weight"]
    # the co-bought partner is the next item: co-occurrence ranks it first for everyone
    assert result["metrics"]["cooccurrence"]["mrr"] == 1.0
    assert result["metrics"]["popularity"]["mrr"] < 1.0
    assert set(saved["slices"]) == {"overall", "cold_items", "short_history", "tail_items", "rest"}
    overall = saved["slices"]["overall"]
    assert overall["n"] == saved["n_examples"]
    assert overall["metrics"]["itemknn"]["ndcg@10"] == pytest.approx(
        saved["metrics"]["itemknn"]["ndcg@10"]
    )


def test_no_tune_fits_defaults_only(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds", SEQUENCES, catalogue=CATALOGUE)
    config = EvaluateConfig(methods=("itemknn", "ease"), bootstrap=20, tune=False)
    saved = run_evaluate(ds, LetterEmbedder(), tmp_path / "out", config, progress=False)
    for name in ("itemknn", "ease"):
        assert saved["tuning"][name]["grid"] == {}
        assert len(saved["tuning"][name]["trials"]) == 1


def test_hybrid_needs_an_id_baseline() -> None:
    from profilerec.errors import UserError

    with pytest.raises(UserError, match="hybrid"):  # refused before any model loads
        EvaluateConfig(methods=("mean_history", "hybrid"))
    with pytest.raises(UserError, match="untuned"):
        EvaluateConfig(untuned=("mean_history",))


def test_hybrid_with_a_profile_set_needs_its_validation_profiles(tmp_path: Path) -> None:
    import polars as pl

    ds = write_dataset(tmp_path / "ds", SEQUENCES, catalogue=CATALOGUE)
    both = pl.concat([ds.split("test"), ds.split("valid")])
    frame = both.select("example_id", "user_id").with_columns(profile=pl.lit("likes item a"))
    config = EvaluateConfig(methods=("itemknn", "hybrid"), bootstrap=20)
    saved = run_evaluate(ds, LetterEmbedder(), tmp_path / "a", config, {"p": frame}, progress=False)
    assert saved["tuning"]["hybrid+p"]["text_method"] == "p"
    assert "hybrid+p" in saved["metrics"]
    test_only = frame.filter(pl.col("example_id").is_in(ds.split("test")["example_id"]))
    saved = run_evaluate(
        ds, LetterEmbedder(), tmp_path / "b", config, {"p": test_only}, progress=False
    )
    assert "hybrid+p" not in saved["metrics"] and "p" in saved["metrics"]
    # a sample of the validation examples is enough when it reaches hybrid_min_valid
    valid = ds.split("valid").sort("example_id")
    some = pl.concat([test_only, frame.filter(pl.col("example_id").is_in(valid["example_id"][:3]))])
    for minimum, expected in ((3, True), (4, False)):
        cfg = EvaluateConfig(methods=("itemknn", "hybrid"), bootstrap=20, hybrid_min_valid=minimum)
        out = run_evaluate(
            ds, LetterEmbedder(), tmp_path / f"s{minimum}", cfg, {"p": some}, progress=False
        )
        assert ("hybrid+p" in out["metrics"]) is expected
        if expected:
            assert out["tuning"]["hybrid+p"]["valid_examples"] == 3


def test_unmasked_ranking_lets_history_items_rank(tmp_path: Path) -> None:
    """--no-mask-history (the published generative-recommendation protocol): a user's
    earlier items stay in the ranking, so a method scoring them high loses the target."""
    ds = write_dataset(tmp_path / "ds", SEQUENCES, catalogue=CATALOGUE)
    config = EvaluateConfig(methods=("mean_history",), bootstrap=20, tune=False)
    masked = run_evaluate(ds, LetterEmbedder(), tmp_path / "m", config, progress=False)
    unmasked = run_evaluate(
        ds,
        LetterEmbedder(),
        tmp_path / "u",
        dataclasses.replace(config, mask_history=False),
        progress=False,
    )
    assert unmasked["config"]["mask_history"] is False
    m, u = masked["metrics"]["mean_history"]["mrr"], unmasked["metrics"]["mean_history"]["mrr"]
    assert u < m


def test_several_examples_per_user_resample_users(tmp_path: Path) -> None:
    import polars as pl

    from profilerec.data.dataset import Dataset

    ds = write_dataset(tmp_path / "ds", SEQUENCES, catalogue=CATALOGUE)
    config = EvaluateConfig(
        methods=("popularity", "mean_history"), bootstrap=50, tune=False, reference="popularity"
    )
    one = run_evaluate(ds, LetterEmbedder(), tmp_path / "one", config, progress=False)
    assert one["resampled"] == "examples"
    assert "detectable" in one["comparisons"][0]
    # every position of three users in test: their examples are one draw each
    path = ds.root / "examples.parquet"
    frame = pl.read_parquet(path)
    users = ["t00", "t10", "t20"]
    frame = frame.with_columns(
        split=pl.when(pl.col("user_id").is_in(users)).then(pl.lit("test")).otherwise("split")
    )
    frame.write_parquet(path)
    several = run_evaluate(
        Dataset.load(ds.root), LetterEmbedder(), tmp_path / "many", config, progress=False
    )
    assert several["resampled"] == "users"
    assert several["slices"]["overall"]["n"] == several["n_examples"] > len(SEQUENCES)


def test_summarise_by_user_widens_intervals_of_correlated_examples() -> None:
    from profilerec.evaluate.stage import summarise

    rng = np.random.default_rng(0)
    user_effect = rng.normal(size=40)
    a = np.repeat(user_effect, 10) + 0.05 * rng.normal(size=400)
    per_user = {  # ten examples per user, all sharing the user's effect
        "a": {"ndcg@10": a, "recall@10": a},
        "b": {"ndcg@10": np.zeros(400), "recall@10": np.zeros(400)},
    }
    groups = np.repeat(np.arange(40), 10)
    config = EvaluateConfig(ks=(10,), bootstrap=300, reference="b")
    flat = summarise(per_user, config)
    clustered = summarise(per_user, config, groups)
    width = lambda r: np.diff(r["ci"]["a"]["ndcg@10"])[0]  # noqa: E731
    assert width(clustered) > 2 * width(flat)
    flat_c = next(c for c in flat["comparisons"] if c["metric"] == "ndcg@10")
    clustered_c = next(c for c in clustered["comparisons"] if c["metric"] == "ndcg@10")
    assert clustered_c["detectable"] > 2 * flat_c["detectable"]


def test_tuning_from_reuses_chosen_parameters(tmp_path: Path) -> None:
    from profilerec.errors import UserError

    ds = write_dataset(tmp_path / "ds", SEQUENCES, catalogue=CATALOGUE)
    config = EvaluateConfig(methods=("itemknn", "ease"), bootstrap=20)
    first = run_evaluate(ds, LetterEmbedder(), tmp_path / "a", config, progress=False)
    again = dataclasses.replace(config, tuning_from=str(tmp_path / "a"))
    second = run_evaluate(ds, LetterEmbedder(), tmp_path / "b", again, progress=False)
    for name in ("itemknn", "ease"):
        assert second["tuning"][name]["chosen"] == first["tuning"][name]["chosen"]
        assert second["tuning"][name]["reused_from"].endswith("metrics.json")
        assert second["metrics"][name] == first["metrics"][name]  # same fit, same ranking
    other = write_dataset(tmp_path / "other", SEQUENCES, catalogue=[*CATALOGUE, "extra"])
    with pytest.raises(UserError, match="another dataset"):
        run_evaluate(other, LetterEmbedder(), tmp_path / "c", again, progress=False)


def test_refit_learns_validation_targets_but_never_test_ones(tmp_path: Path) -> None:
    import polars as pl

    ds = write_dataset(tmp_path / "ds", SEQUENCES, catalogue=CATALOGUE)
    view = ds.with_valid_as_train()
    pairs = set(view.train_interactions().select("user_id", "item_id").rows())
    valid = set(ds.split("valid").select("user_id", "item_id").rows())
    test = set(ds.split("test").select("user_id", "item_id").rows())
    assert valid <= pairs and not test & pairs
    assert not valid & set(ds.train_interactions().select("user_id", "item_id").rows())
    assert view.split("valid").is_empty() and ds.split("valid").height == len(SEQUENCES)
    assert view.examples.filter(pl.col("split") == "test").equals(ds.split("test"))


def test_refit_keeps_the_validation_choices(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds", SEQUENCES, catalogue=CATALOGUE)
    config = EvaluateConfig(
        methods=("itemknn", "sasrec", "mean_history", "hybrid"),
        bootstrap=20,
        tune=False,
        baseline_params={"sasrec": {"epochs": 3, "hidden": 8, "layers": 1}},
    )
    plain = run_evaluate(ds, LetterEmbedder(), tmp_path / "a", config, progress=False)
    again = run_evaluate(
        ds,
        LetterEmbedder(),
        tmp_path / "b",
        dataclasses.replace(config, refit=True),
        progress=False,
    )
    assert "refit" not in plain["tuning"]["sasrec"]
    refit = again["tuning"]["sasrec"]["refit"]
    assert refit["params"]["patience"] == 0 and 1 <= refit["params"]["epochs"] <= 3
    assert again["tuning"]["itemknn"]["refit"]["on"] == "train + valid examples"
    # choices made on validation use the train-only fits: identical with and without refit
    assert again["tuning"]["hybrid"]["trials"] == plain["tuning"]["hybrid"]["trials"]
    assert again["best_id_baseline"] == plain["best_id_baseline"]
