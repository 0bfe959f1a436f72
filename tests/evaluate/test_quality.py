"""evaluate writes a profile_quality block per profile set (issue 33)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from tests.evaluate.test_stage import CATALOGUE, SEQUENCES, LetterEmbedder

from _datasets import write_dataset
from profilerec.evaluate.stage import METRICS_FILE, EvaluateConfig, run_evaluate


@pytest.fixture(autouse=True)
def _single_thread(one_torch_thread: None) -> None:
    """One torch thread."""


def test_profile_quality_per_set(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds", SEQUENCES, catalogue=CATALOGUE)
    test = ds.split("test").sort("example_id")
    good = pl.DataFrame({"example_id": test["example_id"], "user_id": test["user_id"],
                         "profile": "Likes item a0 and item b1."})  # fmt: skip
    bad = good.with_columns(profile=pl.lit("Customer Name: Alex Chen, likes item"))
    config = EvaluateConfig(methods=("history_text",), bootstrap=20)
    run_evaluate(ds, LetterEmbedder(), tmp_path / "out", config,
                 {"good": good, "bad": bad}, progress=False)  # fmt: skip
    quality = json.loads((tmp_path / "out" / METRICS_FILE).read_text())["profile_quality"]
    assert set(quality) == {"good", "bad"}
    assert quality["good"]["n"] == test.height
    assert quality["good"]["cut_mid_sentence"] == 0.0 and quality["bad"]["cut_mid_sentence"] == 1.0
    assert quality["good"]["invented_personal"] == 0.0
    assert quality["bad"]["invented_personal"] == 1.0
    assert quality["bad"]["invented_example"] == "name: Alex Chen"
    assert quality["good"]["sameness"] == pytest.approx(1.0, abs=1e-4)  # one text for all
    # the titles ("item 3") hold no product word, so no profile has one to ground
    assert quality["good"]["grounding"] is None
