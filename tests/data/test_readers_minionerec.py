"""The MiniOneRec (given split) and LC-Rec (per-user sequences) benchmark layouts."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from profilerec.data.dataset import Dataset
from profilerec.data.prepare import PrepareConfig, prepare
from profilerec.data.readers import ReadOptions, get_reader
from profilerec.errors import DataError, UserError

CAT = "Tools_5_2016-10-2018-11"
HEADER = "user_id,history_item_title,item_title,history_item_id,item_id,history_item_sid,item_sid\n"
ITEMS = {
    str(i): {
        "title": f"Item {i}",
        "description": "['First line.', 'Second, it's here.']" if i == 1 else f"About {i}",
        "brand": "Acme" if i % 2 else "",
        "categories": "",
    }
    for i in range(12)
}
# Rows in global time order. u1: 0 1 2 | valid 3 | test 4, 5 (a window of 3 slides on);
# u2: 6 | valid 7 (repeat of nothing) | test 6 (a repeat purchase of its first item).
VALID = [("u1", [0, 1, 2], 3), ("u2", [6], 7)]
TEST = [("u1", [1, 2, 3], 4), ("u2", [6, 7], 6), ("u1", [2, 3, 4], 5)]


def _csv(rows: list[tuple[str, list[int], int]]) -> str:
    lines = [HEADER]
    for user, hist, target in rows:
        titles = [f"Item {i}" for i in hist]
        lines.append(f'{user},"{titles}",Item {target},"{hist}",{target},"[]",x\n')
    return "".join(lines)


def write_minionerec(
    root: Path,
    valid: list[tuple[str, list[int], int]] = VALID,
    test: list[tuple[str, list[int], int]] = TEST,
    items: dict[str, dict[str, str]] | None = None,
    train: list[tuple[str, list[int], int]] | None = None,
) -> Path:
    amazon = root / "Amazon"
    parts = {"valid": valid, "test": test} | ({"train": train} if train is not None else {})
    for split, rows in parts.items():
        (amazon / split).mkdir(parents=True)
        (amazon / split / f"{CAT}.csv").write_text(_csv(rows))
    (amazon / "index").mkdir()
    (amazon / "index" / "Tools.item.json").write_text(json.dumps(items or ITEMS))
    return root


def _rows(examples: pl.DataFrame, split: str) -> set[tuple[str, tuple[str, ...], str]]:
    part = examples.filter(pl.col("split") == split)
    return {(u, tuple(h), t) for u, h, t in part.select("user_id", "history", "item_id").rows()}


def _given(rows: list[tuple[str, list[int], int]]) -> set[tuple[str, tuple[str, ...], str]]:
    return {(u, tuple(str(i) for i in h), str(t)) for u, h, t in rows}


def test_given_split_is_kept_exactly(tmp_path: Path) -> None:
    src = write_minionerec(tmp_path / "src")
    manifest = prepare(src, tmp_path / "data", PrepareConfig(format="minionerec"))
    ds = Dataset.load(tmp_path / "data")
    assert _rows(ds.examples, "valid") == _given(VALID)
    assert _rows(ds.examples, "test") == _given(TEST)  # the repeat target is kept
    assert ds.examples.filter(pl.col("split") != "train").height == len(VALID) + len(TEST)
    assert ds.item_ids == sorted(ITEMS)  # the whole item file is the catalogue
    given = manifest["counts"]["given"]
    assert given["train_source"] == "derived" and given["windows_not_continuing"] == 0
    assert any("no train file" in w for w in manifest["warnings"])
    # description: a hand-joined literal list with an apostrophe inside a part
    one = ds.items.filter(pl.col("item_id") == "1").row(0, named=True)
    assert one["description"] == "First line.\nSecond, it's here."
    assert one["store"] == "Acme"


def test_derived_training_never_holds_an_evaluation_target(tmp_path: Path) -> None:
    src = write_minionerec(tmp_path / "src")
    prepare(src, tmp_path / "data", PrepareConfig(format="minionerec"))
    ds = Dataset.load(tmp_path / "data")
    train = ds.train_interactions()
    held = ds.examples.filter(pl.col("split") != "train")
    # u1's training items are exactly its first window; u2's is item 6 only
    assert sorted(train.filter(pl.col("user_id") == "u1")["item_id"]) == ["0", "1", "2"]
    assert train.filter(pl.col("user_id") == "u2")["item_id"].to_list() == ["6"]
    for user, item in held.select("user_id", "item_id").rows():
        pairs = set(train.filter(pl.col("user_id") == user)["item_id"])
        if (user, item) != ("u2", "6"):  # u2's test target is a repeat of a training item
            assert item not in pairs
    derived = ds.split("train")
    assert _rows(derived, "train") == {("u1", ("0",), "1"), ("u1", ("0", "1"), "2")}
    first_target = held.group_by("user_id").agg(pl.col("timestamp").min()).rows()
    for user, cut in first_target:
        assert (derived.filter(pl.col("user_id") == user)["timestamp"] < cut).all()


def test_rebuilt_sequences_give_ordered_histories(tmp_path: Path) -> None:
    src = write_minionerec(tmp_path / "src")
    prepare(src, tmp_path / "data", PrepareConfig(format="minionerec"))
    ds = Dataset.load(tmp_path / "data")
    test = ds.split("test").sort("example_id")
    # every history item is strictly earlier than its target, in the user's interactions
    for row in test.iter_rows(named=True):
        times = dict(
            ds.interactions.filter(pl.col("user_id") == row["user_id"])
            .select("item_id", "timestamp")
            .rows()
        )
        assert all(times[i] < row["timestamp"] for i in row["history"])
    masks = ds.seen_before(test)
    last = test.filter(pl.col("item_id") == "5").row(0, named=True)
    index = ds.item_index
    seen = masks[test["example_id"].to_list().index(last["example_id"])]
    assert sorted(seen) == sorted(index[i] for i in ["0", "1", "2", "3", "4"])


def test_train_file_rows_are_the_training_examples(tmp_path: Path) -> None:
    train = [("u1", [0], 1), ("u1", [0, 1], 2)]
    src = write_minionerec(tmp_path / "src", train=train)
    manifest = prepare(src, tmp_path / "data", PrepareConfig(format="minionerec"))
    ds = Dataset.load(tmp_path / "data")
    assert _rows(ds.examples, "train") == _given(train)
    assert manifest["counts"]["given"]["train_source"] == "train file"
    assert not any("no train file" in w for w in manifest["warnings"])


def test_item_missing_from_item_file_is_a_clear_error(tmp_path: Path) -> None:
    items = {k: v for k, v in ITEMS.items() if k != "7"}
    src = write_minionerec(tmp_path / "src", items=items)
    with pytest.raises(DataError, match=r"valid/.*\.csv:3: item id 7 is not in the item file"):
        get_reader("minionerec")(src, ReadOptions())


def test_malformed_history_list_names_the_line(tmp_path: Path) -> None:
    src = write_minionerec(tmp_path / "src")
    path = src / "Amazon" / "test" / f"{CAT}.csv"
    path.write_text(HEADER + 'u1,"[]",x,"[1, 2,",3,"[]",x\n')
    with pytest.raises(DataError, match=r"test/.*\.csv:2: history_item_id/item_id: malformed"):
        get_reader("minionerec")(src, ReadOptions())


def test_malformed_literal_description_is_an_error_unless_lenient(tmp_path: Path) -> None:
    items = dict(ITEMS) | {"3": {"title": "T", "description": "[1, 2", "brand": ""}}
    src = write_minionerec(tmp_path / "src", items=items)
    with pytest.raises(DataError, match="item 3: malformed Python-literal list"):
        get_reader("minionerec")(src, ReadOptions())
    raw = get_reader("minionerec")(src, ReadOptions(lenient=True))
    assert raw.report.total == 1


def test_missing_files_and_several_categories(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no MiniOneRec split here"):
        get_reader("minionerec")(tmp_path, ReadOptions())
    src = write_minionerec(tmp_path / "src")
    (src / "Amazon" / "index" / "Tools.item.json").unlink()
    with pytest.raises(UserError, match=r"Tools\.item\.json: missing"):
        get_reader("minionerec")(src, ReadOptions())
    other = write_minionerec(tmp_path / "two")
    (other / "Amazon" / "test" / "Other_5_x.csv").write_text(HEADER)
    with pytest.raises(UserError, match="several categories"):
        get_reader("minionerec")(other, ReadOptions())
    # one test CSV as SOURCE picks the category
    raw = get_reader("minionerec")(other / "Amazon" / "test" / f"{CAT}.csv", ReadOptions())
    assert raw.examples is not None and raw.examples.height > 0


def test_lcrec_layout_is_leave_last_out(tmp_path: Path) -> None:
    seqs = {"0": [0, 1, 2, 3, 4], "1": [5, 6, 7, 8, 9], "2": [0, 2, 4, 6, 8]}
    (tmp_path / "Tools.inter.json").write_text(json.dumps(seqs))
    (tmp_path / "Tools.item.json").write_text(json.dumps(ITEMS))
    prepare(tmp_path, tmp_path / "data", PrepareConfig(format="lcrec", k_core=0))
    ds = Dataset.load(tmp_path / "data")
    test = {
        u: (tuple(h), t)
        for u, h, t in ds.split("test").select("user_id", "history", "item_id").rows()
    }
    assert test["0"] == (("0", "1", "2", "3"), "4")
    assert ds.split("valid").filter(pl.col("user_id") == "1")["item_id"].to_list() == ["8"]
    bad = {"0": [0, 99]}
    (tmp_path / "Tools.inter.json").write_text(json.dumps(bad))
    with pytest.raises(DataError, match=r"item id 99 is not in Tools\.item\.json"):
        get_reader("lcrec")(tmp_path, ReadOptions())
