"""``profilerec run`` gives the table the same stages give when run by hand (issue 36).

An experiment file is a shorthand for a chain of commands; if its defaults drifted from the
commands' own (a profile option, an evaluation default), its table would silently stop being
the one a user gets by hand. Both are run here on the tiny models and their tables compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bad_input._inproc import run_main
from profilerec.experiment import load_experiment, run_experiment


def test_an_experiment_reproduces_the_hand_run_stages_table(
    tmp_path: Path,
    tiny_lm_dir: Path,
    tiny_st_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROFILEREC_CACHE", str(tmp_path / "cache"))
    lm, st = f"transformers:{tiny_lm_dir}", f"sentence-transformers:{tiny_st_dir}"
    spec = {
        "dataset": {"source": "demo"},
        "profiles": {"zero_shot": {
            "generator": lm, "dtype": "float32", "device": "cpu", "limit": 6, "batch_size": 3,
            "generation": {"max_new_tokens": 8},
        }},
        "evaluate": {"embedder": st, "options": {
            "limit": 6, "tune": False, "methods": ["popularity", "history_text"],
        }},
        "report": False,
    }  # fmt: skip
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(spec))
    run_experiment(load_experiment(path, tmp_path / "exp"))
    by_file = json.loads((tmp_path / "exp" / "eval" / "metrics.json").read_text())

    hand = tmp_path / "hand"
    steps = [
        ["prepare", "--demo", "--out", hand / "data"],
        ["profile", hand / "data", "--generator", lm, "--dtype", "float32", "--device", "cpu",
         "--limit", "6", "--batch-size", "3", "--max-new-tokens", "8", "--out", hand / "p"],
        ["evaluate", hand / "data", "--profiles", f"zero_shot={hand / 'p'}", "--embedder", st,
         "--limit", "6", "--no-tune", "--method", "popularity", "--method", "history_text",
         "--no-report", "--out", hand / "eval"],
    ]  # fmt: skip
    for args in steps:
        code, err = run_main(monkeypatch, capsys, *args)
        assert code == 0, (args[0], err)
    by_hand = json.loads((hand / "eval" / "metrics.json").read_text())

    texts = [
        {r["example_id"]: r["profile"] for r in _rows(folder)}
        for folder in (tmp_path / "exp" / "profiles" / "zero_shot", hand / "p")
    ]
    assert texts[0] == texts[1]  # the same profiles, text for text
    assert {"popularity", "history_text", "zero_shot"} <= set(by_file["metrics"])
    table = [
        {f"{m}/{k}": v for m, row in metrics["metrics"].items() for k, v in row.items()}
        for metrics in (by_file, by_hand)
    ]
    assert table[0] == pytest.approx(table[1], rel=1e-9, abs=1e-12)


def _rows(folder: Path) -> list[dict[str, str]]:
    import polars as pl

    return pl.read_parquet(folder / "profiles.parquet").select("example_id", "profile").to_dicts()
