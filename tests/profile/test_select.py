"""Best-of-N by history coverage: the covering candidate wins, and no target reaches the choice."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from _datasets import write_dataset
from _embedders import AXES, KeywordEmbedder
from profilerec.data.dataset import Dataset
from profilerec.errors import UserError
from profilerec.profile.select import SELECTION_FILE, SelectConfig, run_select
from profilerec.profile.stage import ProfileConfig, run_profile


class Fixed:
    """A generator that writes the same text for every prompt."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.model_id = f"fixed:{text}"

    def generate(self, prompts: list, config: object) -> list[str]:  # type: ignore[type-arg]
        return [self.text for _ in prompts]


def _sets(ds: Dataset, root: Path, texts: list[str]) -> list[Path]:
    dirs = []
    for k, text in enumerate(texts):
        run_profile(ds, Fixed(text), root / f"set{k}", ProfileConfig(), progress=False)
        dirs.append(root / f"set{k}")
    return dirs


def _data(root: Path, last: str) -> Dataset:
    seqs = {"u1": ["lipstick", "shampoo", "socks", last], "u2": ["coffee", "guitar", "tent"]}
    return write_dataset(root, seqs, catalogue=AXES, with_valid=False)


def test_the_candidate_covering_the_history_is_chosen(tmp_path: Path) -> None:
    ds = _data(tmp_path / "data", "tent")
    dirs = _sets(ds, tmp_path, ["generic words", "lipstick shampoo socks", "coffee guitar"])
    path = run_select(ds, dirs, tmp_path / "out", SelectConfig(coverage_items=3), KeywordEmbedder())
    chosen = pl.read_parquet(path).sort("example_id")
    by_user = dict(zip(chosen["user_id"], chosen["profile"], strict=True))
    assert by_user == {"u1": "lipstick shampoo socks", "u2": "coffee guitar"}
    assert set(chosen["method"]) == {"zero_shot+best_of_3"}
    sel = pl.read_parquet(tmp_path / "out" / SELECTION_FILE)
    assert sel.height == 3 * chosen.height and sel["chosen"].sum() == chosen.height


def test_ties_keep_the_first_set(tmp_path: Path) -> None:
    ds = _data(tmp_path / "data", "tent")
    dirs = _sets(ds, tmp_path, ["greedy text", "sampled text"])  # neither names an item
    path = run_select(ds, dirs, tmp_path / "out", SelectConfig(), KeywordEmbedder())
    assert set(pl.read_parquet(path)["profile"]) == {"greedy text"}


def test_the_target_and_later_items_do_not_change_the_choice(tmp_path: Path) -> None:
    """Same histories, different targets: every score and every choice is identical, and a
    candidate that names the target gains nothing from it."""
    texts = ["tent tent tent", "guitar guitar", "lipstick socks"]
    frames = []
    for last in ("tent", "guitar"):
        ds = _data(tmp_path / f"data_{last}", last)
        dirs = _sets(ds, tmp_path / f"sets_{last}", texts)
        run_select(ds, dirs, tmp_path / f"out_{last}", SelectConfig(), KeywordEmbedder())
        sel = pl.read_parquet(tmp_path / f"out_{last}" / SELECTION_FILE)
        frames.append(sel.drop("set").sort("example_id", "candidate"))
    assert frames[0].equals(frames[1])


def test_bad_candidate_sets_are_user_errors(tmp_path: Path) -> None:
    ds = _data(tmp_path / "data", "tent")
    dirs = _sets(ds, tmp_path, ["a", "b"])
    with pytest.raises(UserError, match="at least two"):
        run_select(ds, dirs[:1], tmp_path / "out", SelectConfig(), KeywordEmbedder())
    run_profile(ds, Fixed("c"), tmp_path / "few", ProfileConfig(limit=1), progress=False)
    with pytest.raises(UserError, match="no profile for"):
        run_select(
            ds, [dirs[0], tmp_path / "few"], tmp_path / "out", SelectConfig(), KeywordEmbedder()
        )
    other = ProfileConfig(history=ProfileConfig().history.__class__(max_items=1))
    run_profile(ds, Fixed("d"), tmp_path / "short", other, progress=False)
    with pytest.raises(UserError, match="prompted differently"):
        run_select(
            ds, [dirs[0], tmp_path / "short"], tmp_path / "out", SelectConfig(), KeywordEmbedder()
        )
    picked = run_select(
        ds, [tmp_path / "few", dirs[0]], tmp_path / "one", SelectConfig(), KeywordEmbedder()
    )
    assert pl.read_parquet(picked).height == 1  # the first set decides which examples
    with pytest.raises(UserError, match="no profiles of split"):
        run_select(ds, dirs, tmp_path / "out", SelectConfig(splits=("valid",)), KeywordEmbedder())
    with pytest.raises(UserError, match="unknown score"):
        SelectConfig(score="logprob")


def test_cli_select(
    tmp_path: Path,
    tiny_st_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sys

    from profilerec.cli import main

    def run(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["profilerec", *args])
        try:
            main()
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
        return code, capsys.readouterr().err

    ds = _data(tmp_path / "data", "tent")
    dirs = _sets(ds, tmp_path, ["lipstick", "coffee"])
    args = ["select", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    emb = ["--embedder", f"sentence-transformers:{tiny_st_dir}"]
    code, err = run(
        *args,
        "--candidates",
        str(dirs[0]),
        "--candidates",
        str(dirs[1]),
        *emb,
        "--method",
        "chosen",
    )
    assert code == 0, err
    assert set(pl.read_parquet(tmp_path / "out" / "profiles.parquet")["method"]) == {"chosen"}
    code, err = run(*args, "--candidates", str(dirs[0]), *emb)
    assert code == 2 and "at least two" in err and "Traceback" not in err
