"""Bad-input corpus, issue 14 item 8: small input quirks ``prepare`` must take or explain."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import polars as pl
from tests.bad_input.test_prepare import T0, assert_error, reviews, run_cli


def test_utf8_bom_on_a_jsonl_file_is_skipped(tmp_path: Path) -> None:
    path = reviews(tmp_path)
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    for engine in ("memory", "streaming"):
        out = tmp_path / f"o-{engine}"
        result = run_cli(path, "--out", out, "--k-core", "0", "--engine", engine)
        assert result.returncode == 0, result.stderr
        assert pl.read_parquet(out / "interactions.parquet").height == 8


def test_utf8_bom_on_an_amazon2018_file_is_skipped(tmp_path: Path) -> None:
    rows = [
        {"reviewerID": u, "asin": f"i{k}", "unixReviewTime": T0 // 1000 + k * 86_400}
        for u in ("u1", "u2")
        for k in range(4)
    ]
    path = tmp_path / "Cat_5.json"
    text = "".join(json.dumps(r) + "\n" for r in rows)
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    out = tmp_path / "o"
    result = run_cli(path, "--format", "amazon2018", "--out", out, "--k-core", "0")
    assert result.returncode == 0, result.stderr
    assert pl.read_parquet(out / "interactions.parquet").height == 8


def test_csv_header_spaces_are_stripped(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    rows = [f"{u}, i{k}, {T0 // 1000 + k * 86_400}" for u in ("u1", "u2") for k in range(4)]
    path.write_text("user_id, item_id, timestamp\n" + "\n".join(rows) + "\n")
    out = tmp_path / "o"
    result = run_cli(path, "--format", "csv", "--out", out, "--k-core", "0")
    assert result.returncode == 0, result.stderr
    assert pl.read_parquet(out / "interactions.parquet").height == 8


def test_no_reviews_hint_names_jsonl(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    assert_error(run_cli(tmp_path, "--out", tmp_path / "o"), "*.jsonl")
    assert_error(run_cli(tmp_path, "--format", "amazon2018", "--out", tmp_path / "o"), "*.jsonl")
