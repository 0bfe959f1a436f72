"""``profile/runs.py`` reads a run folder without the trainers: the format a run trained on,
the one of its time when the run predates the history options, and bad values refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilerec.errors import UserError
from profilerec.methods.rft.config import RFTConfig
from profilerec.profile.prompts import HistoryFormat
from profilerec.profile.runs import ProfilerRun, base_model_of, history_format_of


def test_a_run_is_read_as_it_was_trained(tmp_path: Path) -> None:
    run = tmp_path / "rft"
    (run / "adapter").mkdir(parents=True)
    (run / "rft_config.json").write_text(json.dumps(RFTConfig(model="m").to_dict()))
    expected = RFTConfig().history_format()
    assert expected != HistoryFormat()  # RFT's own defaults, not the profile stage's
    assert history_format_of(run) == expected and base_model_of(run) == "m"
    for given in (run, run / "adapter"):  # the run folder or its adapter folder
        trained = ProfilerRun.read(given)
        assert trained.folder == run and trained.history_format() == expected
    assert ProfilerRun.read(run).history_format(max_items=2).max_items == 2


def test_a_run_from_before_the_history_options_used_the_format_of_its_time(
    tmp_path: Path,
) -> None:
    (tmp_path / "blue_config.json").write_text(json.dumps({"reward": "blue", "model": None}))
    assert history_format_of(tmp_path) == HistoryFormat()
    assert base_model_of(tmp_path) is None
    assert history_format_of(tmp_path / "nothing") is None
    assert ProfilerRun.read(tmp_path / "nothing").history_format() == HistoryFormat()


def test_a_bad_history_format_in_a_run_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "blue_config.json").write_text(json.dumps({"history_items": 0}))
    with pytest.raises(UserError, match="history_items"):
        history_format_of(tmp_path)
