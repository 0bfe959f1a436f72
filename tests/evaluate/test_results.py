"""summarise_groups / sliced_groups: the ProEx and PtE runs' tables resample whole users."""

from __future__ import annotations

import numpy as np
import pytest

from profilerec.evaluate.protocol import EvaluateConfig
from profilerec.evaluate.results import sliced_groups, summarise_groups
from profilerec.retrieval.bootstrap import bootstrap_ci


def tables() -> tuple[dict[str, dict[str, np.ndarray]], np.ndarray]:
    """One heavy user with 30 correlated examples, 10 light users with one each."""
    rng = np.random.default_rng(0)
    users = np.array(["heavy"] * 30 + [f"u{i}" for i in range(10)])
    base = np.where(users == "heavy", 1.0, rng.uniform(0, 0.2, users.size))
    per_user = {}
    for name, shift in (("x", 0.0), ("x+p", 0.05)):
        values = np.clip(base + shift * rng.uniform(size=users.size), 0, 1)
        per_user[name] = {m: values for m in ("ndcg@10", "recall@10")}
    return per_user, users


def test_intervals_resample_users_when_given() -> None:
    per_user, users = tables()
    config = EvaluateConfig(ks=(10,), bootstrap=300, seed=0)
    by_user = summarise_groups(per_user, {"x": ["x+p"]}, config, users)
    by_example = summarise_groups(per_user, {"x": ["x+p"]}, config)
    values = per_user["x"]["ndcg@10"]
    expected = bootstrap_ci(values, n_resamples=300, seed=0, groups=users)
    assert by_user["ci"]["x"]["ndcg@10"] == pytest.approx([expected.low, expected.high])
    # the heavy user's 30 examples are one draw: a far wider interval than 40 free draws
    low, high = by_user["ci"]["x"]["ndcg@10"]
    low_e, high_e = by_example["ci"]["x"]["ndcg@10"]
    assert high - low > 1.5 * (high_e - low_e)
    assert [c["method"] for c in by_user["comparisons"]] == ["x+p", "x+p"]


def test_slices_compare_each_member_with_its_reference_on_the_slice() -> None:
    per_user, users = tables()
    masks = {"overall": np.ones(users.size, bool), "light": users != "heavy"}
    config = EvaluateConfig(ks=(10,), bootstrap=200, seed=0)
    slices = sliced_groups(per_user, {"x": ["x+p"]}, masks, config, users)
    assert list(slices) == ["overall", "light"]
    assert slices["light"]["n"] == 10 and slices["overall"]["n"] == 40
    light = per_user["x"]["ndcg@10"][users != "heavy"]
    assert slices["light"]["metrics"]["x"]["ndcg@10"] == pytest.approx(light.mean())
    refs = {(c["method"], c["reference"]) for c in slices["light"]["comparisons"]}
    assert refs == {("x+p", "x")}
