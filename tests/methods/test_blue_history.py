"""A run's compact history format reaches its training prompts and its test-time profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilerec.cli.profile import _history_format
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.llm.prompts import load_template
from profilerec.methods.blue.config import BlueConfig
from profilerec.methods.blue.data import build_rows, select_train_examples
from profilerec.profile.prompts import HistoryFormat
from profilerec.profile.runs import ProfilerRun, history_format_of


def _user_text(prompt: list[dict[str, str]]) -> str:
    return next(m["content"] for m in prompt if m["role"] == "user")


def test_compact_format_shortens_training_prompts(demo_dataset: Path) -> None:
    ds = Dataset.load(demo_dataset)
    train = select_train_examples(ds, 16, one_per_user=True, seed=0)
    texts = ds.item_texts(100)
    template = load_template("profile")
    full = build_rows(ds, train, template, n_positives=1, item_texts=texts)
    compact_fmt = BlueConfig(
        history_items=3, history_item_chars=20, history_snippet_chars=0
    ).history_format()
    compact = build_rows(ds, train, template, n_positives=1, item_texts=texts, history=compact_fmt)
    for f, c in zip(full, compact, strict=True):
        short, long = _user_text(c["prompt"]), _user_text(f["prompt"])
        assert len(short) < len(long)
        assert '"' not in short.split("\n", 1)[1].rsplit("\n\n", 1)[0]  # no review snippets
        assert sum(line[:1].isdigit() for line in short.splitlines()) <= 3
        assert c["positives"] == f["positives"]  # only the prompt changes


def test_profile_uses_the_adapter_runs_format_unless_told(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "best_adapter").mkdir(parents=True)
    cfg = BlueConfig(history_items=4, history_item_chars=30, history_snippet_chars=0)
    (run / "blue_config.json").write_text(json.dumps(cfg.to_dict()))
    trained = HistoryFormat(max_items=4, item_chars=30, snippet_chars=0)
    assert history_format_of(run) == trained
    assert _history_format(ProfilerRun.read(run), None, None, None) == trained
    assert _history_format(ProfilerRun.read(run / "best_adapter"), None, None, None) == trained
    assert _history_format(ProfilerRun.read(run), 7, None, 10) == HistoryFormat(7, 30, 10)
    assert _history_format(None, None, None, None) == HistoryFormat()
    assert history_format_of(tmp_path) is None


def test_bad_history_format_is_a_user_error() -> None:
    with pytest.raises(UserError, match="history_items"):
        BlueConfig(history_items=0)


def test_every_shipped_blue_example_config_loads() -> None:
    root = Path(__file__).resolve().parents[2] / "examples"
    found = sorted(root.glob("blue*.yaml"))
    assert found
    for path in found:
        BlueConfig.from_yaml(path)
    compact = BlueConfig.from_yaml(root / "blue.yaml").history_format()
    assert compact == HistoryFormat(max_items=5, item_chars=40, snippet_chars=0)


def test_reward_form_mistakes_are_caught_before_any_model_loads() -> None:
    with pytest.raises(UserError, match="reward_variant"):
        BlueConfig(reward_variant="bogus")
    with pytest.raises(UserError, match="n_negatives"):
        BlueConfig(n_negatives=-1)
    assert BlueConfig(reward_variant="mrr", n_negatives=0).n_negatives == 0
