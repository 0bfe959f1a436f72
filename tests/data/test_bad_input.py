"""Bad input across readers: each mistake gives a located one-line message, or is
skipped and counted in lenient mode; the CLI turns it into exit code 2 without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from profilerec.data.prepare import PrepareConfig, prepare
from profilerec.data.readers import ReadOptions, get_reader
from profilerec.errors import DataError, UserError

GOOD = '{"reviewerID": "U1", "asin": "A1", "overall": 5.0, "unixReviewTime": 100}\n'
MALFORMED = '{"reviewerID": "U1", "asin": \n'
NO_ASIN = '{"reviewerID": "U2", "overall": 4.0, "unixReviewTime": 200}\n'
BAD_BYTES = b'{"reviewerID": "U3", "asin": "A\xff", "unixReviewTime": 300}\n'


def write(path: Path, *lines: str | bytes) -> Path:
    path.write_bytes(b"".join(x if isinstance(x, bytes) else x.encode() for x in lines))
    return path


def read2018(path: Path, lenient: bool = False):  # type: ignore[no-untyped-def]
    return get_reader("amazon2018")(path, ReadOptions(lenient=lenient))


def test_malformed_json_line_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "Toys_5.json", GOOD, MALFORMED, GOOD)
    with pytest.raises(DataError) as info:
        read2018(path)
    assert (info.value.path, info.value.line) == (str(path), 2)
    assert str(info.value).startswith(f"{path}:2: malformed JSON (")


def test_malformed_json_in_google_local(tmp_path: Path) -> None:
    path = write(
        tmp_path / "review-X.json", '{"user_id": "u", "gmap_id": "g", "time": 1}\n', "{oops\n"
    )
    with pytest.raises(DataError, match=r"review-X\.json:2: malformed JSON"):
        get_reader("google_local")(path, ReadOptions())


def test_missing_required_field_names_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "Toys_5.json", GOOD, NO_ASIN)
    with pytest.raises(DataError) as info:
        read2018(path)
    assert str(info.value) == f"{path}:2: missing required field(s) asin"


def test_missing_required_field_google_local(tmp_path: Path) -> None:
    path = write(tmp_path / "review-X.json", '{"user_id": "u", "time": 1}\n')
    with pytest.raises(DataError) as info:
        get_reader("google_local")(path, ReadOptions())
    assert str(info.value) == f"{path}:1: missing required field(s) gmap_id"


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("amazon2018", "Toys_5.json"),
        ("google_local", "review-X.json"),
        ("movielens", "u.data"),
        ("recbole", "x.inter"),
        ("csv", "x.csv"),
    ],
)
def test_empty_file(tmp_path: Path, fmt: str, name: str) -> None:
    path = write(tmp_path / name, "\n")
    if fmt == "csv":
        path.write_bytes(b"")
    with pytest.raises(DataError) as info:
        get_reader(fmt)(path, ReadOptions())
    assert str(info.value) == f"{path}: file is empty"


def test_non_utf8_bytes_name_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "Toys_5.json", GOOD, BAD_BYTES)
    with pytest.raises(DataError) as info:
        read2018(path)
    # 0xFF follows '{"reviewerID": "U3", "asin": "A' (31 bytes): 0-based offset 31.
    assert str(info.value) == f"{path}:2: not valid UTF-8 (byte 31)"


def test_non_utf8_in_google_local(tmp_path: Path) -> None:
    path = write(tmp_path / "review-X.json", b'{"user_id": "\xe9", "gmap_id": "g", "time": 1}\n')
    with pytest.raises(DataError, match=r"review-X\.json:1: not valid UTF-8 \(byte 13\)$"):
        get_reader("google_local")(path, ReadOptions())


def test_unknown_format_lists_valid_names() -> None:
    with pytest.raises(UserError) as info:
        get_reader("amazon2019")
    assert str(info.value) == (
        "unknown format 'amazon2019'; choose one of: amazon2014, amazon2018, amazon2023, csv, "
        "google_local, lcrec, minionerec, movielens, parquet, recbole"
    )


@pytest.mark.parametrize("fmt", ["amazon2018", "google_local", "movielens"])
def test_column_mapping_is_refused_where_field_names_are_fixed(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(
        UserError, match=f"--column applies to csv, parquet and recbole sources, not {fmt}"
    ):
        get_reader(fmt)(tmp_path, ReadOptions(columns={"user_id": "uid"}))


def test_unknown_item_ids_with_missing_meta_error(tmp_path: Path) -> None:
    reviews = write(
        tmp_path / "Toys_5.json",
        GOOD,
        '{"reviewerID": "U1", "asin": "A7", "unixReviewTime": 200}\n',
        '{"reviewerID": "U2", "asin": "A7", "unixReviewTime": 300}\n',
    )
    write(tmp_path / "meta_Toys.json", '{"asin": "A1", "title": "Kite"}\n')
    config = PrepareConfig(format="amazon2018", k_core=0, missing_meta="error")
    with pytest.raises(UserError) as info:
        prepare(reviews, tmp_path / "out", config)
    assert str(info.value) == (
        f"{reviews}: 2 interactions reference 1 item(s) with no metadata record (first: A7); "
        "pass --missing-meta keep or drop"
    )


def test_lenient_mode_skips_and_counts(tmp_path: Path) -> None:
    path = write(tmp_path / "Toys_5.json", GOOD, MALFORMED, NO_ASIN, BAD_BYTES, GOOD)
    raw = read2018(path, lenient=True)
    assert raw.interactions.height == 2
    report = raw.report.as_dict()
    assert report["total"] == 3
    by_reason = report["by_reason"]
    assert by_reason["Toys_5.json: missing required field(s) asin"] == 1
    assert by_reason["Toys_5.json: not valid UTF-8 (byte 31)"] == 1
    malformed = [k for k in by_reason if k.startswith("Toys_5.json: malformed JSON")]
    assert len(malformed) == 1
    assert report["first_seen"][malformed[0]] == f"{path}:2"
    assert report["first_seen"]["Toys_5.json: missing required field(s) asin"] == f"{path}:3"


def test_lenient_counts_reach_the_manifest(tmp_path: Path) -> None:
    later = GOOD.replace('"A1"', '"A2"').replace("100", "150")  # 2 items: 1 example
    path = write(tmp_path / "Toys_5.json", GOOD, MALFORMED, NO_ASIN, later)
    config = PrepareConfig(format="amazon2018", k_core=0, read=ReadOptions(lenient=True))
    manifest = prepare(path, tmp_path / "out", config)
    assert manifest["skipped"]["total"] == 2
    assert manifest["counts"]["interactions_read"] == 2
    on_disk = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert on_disk["skipped"] == manifest["skipped"]


# --- through the command line --------------------------------------------------------------


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``profilerec`` as a user runs it (same interpreter, so it works in any venv)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    return subprocess.run(
        [sys.executable, "-m", "profilerec.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: {expected}"]


def test_cli_malformed_line(tmp_path: Path) -> None:
    path = write(tmp_path / "Toys_5.json", GOOD, NO_ASIN)
    result = run_cli("prepare", path, "--format", "amazon2018", "--out", tmp_path / "out")
    assert_one_line_error(result, f"{path}:2: missing required field(s) asin")


def test_cli_unknown_format(tmp_path: Path) -> None:
    path = write(tmp_path / "Toys_5.json", GOOD)
    result = run_cli("prepare", path, "--format", "yelp", "--out", tmp_path / "out")
    assert_one_line_error(
        result,
        "unknown format 'yelp'; choose one of: amazon2014, amazon2018, amazon2023, csv, "
        "google_local, lcrec, minionerec, movielens, parquet, recbole",
    )


def test_cli_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "log.csv", "user,item,ts\na,b,1\n")
    result = run_cli(
        "prepare", path, "--format", "csv", "--out", tmp_path / "out", "--column", "user_id=user"
    )
    assert_one_line_error(
        result,
        f"{path}: no column 'item_id' for item_id; available columns: user, item, ts "
        "(map one with --column item_id=COLUMN)",
    )


def test_cli_lenient_run_succeeds_and_records_skips(tmp_path: Path) -> None:
    later = GOOD.replace('"A1"', '"A2"').replace("100", "150")  # 2 items: 1 example
    path = write(tmp_path / "Toys_5.json", GOOD, MALFORMED, later)
    out = tmp_path / "out"
    result = run_cli(
        "prepare", path, "--format", "amazon2018", "--out", out, "--k-core", "0", "--lenient"
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["skipped"]["total"] == 1
    assert manifest["counts"]["interactions_read"] == 2
