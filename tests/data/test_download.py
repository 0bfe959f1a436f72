"""``profilerec download`` against a local server on 127.0.0.1: never the internet.

Full download, resume after a cut connection and from a killed run's ``.part``, a corrupt
gzip and a wrong sha256 refused, a 404 and no network each one line, a stalling server
bounded by the timeouts, ``--help`` listing every dataset with its size.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import socket
import subprocess
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from _http_server import Behaviour, serve
from bad_input._cli import run_cli
from profilerec.data.download import MANIFEST, DownloadOptions, fetch, urls_of
from profilerec.data.registry import DATASETS, RemoteFile, get_dataset
from profilerec.errors import UserError

GZ_PATH = "/public_datasets/data/amazon_2023/raw/review_categories/All_Beauty.jsonl.gz"
META_PATH = "/public_datasets/data/amazon_2023/raw/meta_categories/meta_All_Beauty.jsonl.gz"


def _jsonl_gz(n: int, seed: str = "r") -> bytes:
    rows = [
        json.dumps({"user_id": f"u{i % 7}", "parent_asin": f"{seed}{i}", "timestamp": 1000 + i})
        for i in range(n)
    ]
    return gzip.compress(("\n".join(rows) + "\n").encode(), mtime=0)


def _options(base: str, **kw: object) -> DownloadOptions:
    args = {"mirror": base, "read_timeout": 2.0, "connect_timeout": 2.0, "backoff": 0.0}
    return DownloadOptions(**(args | kw))  # type: ignore[arg-type]


def _remote(path: str = "All_Beauty.jsonl.gz", **kw: object) -> RemoteFile:
    return RemoteFile(path, f"https://mcauleylab.ucsd.edu{GZ_PATH}", **kw)  # type: ignore[arg-type]


def assert_error(result: subprocess.CompletedProcess[str], fragment: str) -> str:
    """Exit 2, no traceback, progress lines (if any) and then one ``error: ...`` line."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: ") and fragment in lines[-1], result.stderr
    assert sum(line.startswith("error") for line in lines) == 1, result.stderr
    return lines[-1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_full_download_through_the_cli_writes_files_and_manifest(tmp_path: Path) -> None:
    reviews, meta = _jsonl_gz(300), _jsonl_gz(50, "m")
    state = Behaviour({GZ_PATH: reviews, META_PATH: meta})
    with serve(state) as base:
        result = run_cli("download", "amazon2023", "All_Beauty", "--out", tmp_path / "raw",
                         "--mirror", base)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "raw" / "All_Beauty.jsonl.gz").read_bytes() == reviews
    assert (tmp_path / "raw" / "meta_All_Beauty.jsonl.gz").read_bytes() == meta
    assert not list((tmp_path / "raw").glob("*.part"))
    manifest = json.loads((tmp_path / "raw" / MANIFEST).read_text())
    record = manifest["files"]["All_Beauty.jsonl.gz"]
    assert record["bytes"] == len(reviews)
    assert record["sha256"] == hashlib.sha256(reviews).hexdigest()
    assert manifest["datasets"]["amazon2023/All_Beauty"]["prepare"]["format"] == "amazon2023"
    assert "next: profilerec prepare" in result.stdout
    assert "All_Beauty.jsonl.gz" in result.stderr and "/s" in result.stderr  # progress lines

    with serve(state) as base:  # a rerun fetches nothing
        before = len(state.requests)
        again = run_cli("download", "amazon2023", "All_Beauty", "--out", tmp_path / "raw",
                        "--mirror", base)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert len(state.requests) == before and "already downloaded" in again.stderr


def test_resume_after_a_cut_connection(tmp_path: Path) -> None:
    data = _jsonl_gz(2000)
    state = Behaviour({GZ_PATH: data}, cut_after={GZ_PATH: 1000})
    with serve(state) as base, httpx.Client(timeout=2) as client:
        record = fetch(client, _remote(), tmp_path, _options(base))
    assert record is not None and (tmp_path / "All_Beauty.jsonl.gz").read_bytes() == data
    ranges = [r for _, _, r in state.requests]
    assert ranges == [None, "bytes=1000-"]  # the retry asked only for what was missing


def test_resume_from_the_part_a_killed_run_left(tmp_path: Path) -> None:
    data = _jsonl_gz(2000)
    (tmp_path / "All_Beauty.jsonl.gz.part").write_bytes(data[:777])
    state = Behaviour({GZ_PATH: data})
    with serve(state) as base, httpx.Client(timeout=2) as client:
        fetch(client, _remote(), tmp_path, _options(base))
    assert (tmp_path / "All_Beauty.jsonl.gz").read_bytes() == data
    assert [r for _, _, r in state.requests] == ["bytes=777-"]


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_gzip_is_refused_and_removed(tmp_path: Path, damage: str) -> None:
    data = _jsonl_gz(2000)
    bad = data[: len(data) // 2] if damage == "truncate" else bytearray(data)
    if damage == "flip":
        bad[len(data) // 2] ^= 0xFF  # type: ignore[index]
    state = Behaviour({GZ_PATH: bytes(bad)})
    with (
        serve(state) as base,
        httpx.Client(timeout=2) as client,
        pytest.raises(UserError, match="not a valid gzip"),
    ):
        fetch(client, _remote(), tmp_path, _options(base))
    assert list(tmp_path.iterdir()) == []  # neither the file nor a .part to resume


def test_a_wrong_sha256_or_size_is_refused(tmp_path: Path) -> None:
    data = b"user_id,history_item_id,item_id\n1,[2],3\n"
    state = Behaviour({GZ_PATH: data})
    with serve(state) as base, httpx.Client(timeout=2) as client:
        with pytest.raises(UserError, match="sha256"):
            fetch(client, _remote("x.csv", sha256="0" * 64), tmp_path, _options(base))  # fmt: skip
        with pytest.raises(UserError, match="expected 5"):
            fetch(client, _remote("x.csv", size=5), tmp_path, _options(base))  # fmt: skip
        right = hashlib.sha256(data).hexdigest()
        fetch(client, _remote("x.csv", sha256=right, size=len(data)), tmp_path, _options(base))  # fmt: skip
    assert (tmp_path / "x.csv").read_bytes() == data


def test_a_404_is_one_line_and_an_optional_file_is_skipped(tmp_path: Path) -> None:
    with serve(Behaviour({})) as base:
        result = run_cli("download", "amazon2023", "All_Beauty", "--out", tmp_path / "raw",
                         "--mirror", base)  # fmt: skip
        with httpx.Client(timeout=2) as client:
            skipped = fetch(client, _remote(optional=True), tmp_path, _options(base))  # fmt: skip
    assert_error(result, "404 Not Found")
    assert skipped is None


def test_no_network_is_one_line_naming_the_urls_and_where_to_put_them(tmp_path: Path) -> None:
    mirror = f"http://127.0.0.1:{_closed_port()}"
    result = run_cli("download", "movielens-100k", "--out", tmp_path / "ml", "--mirror", mirror)
    line = assert_error(result, "no network")
    assert "ml-100k.zip" in line and str(tmp_path / "ml" / "ml-100k.zip") in line


def test_a_stalling_server_is_bounded(tmp_path: Path) -> None:
    state = Behaviour({GZ_PATH: _jsonl_gz(2000)}, stall={GZ_PATH})
    started = time.monotonic()
    with (
        serve(state) as base,
        httpx.Client(timeout=httpx.Timeout(1.0)) as client,
        pytest.raises(UserError, match="stalled"),
    ):
        fetch(client, _remote(), tmp_path, _options(base, read_timeout=1.0, retries=1))  # fmt: skip
    assert time.monotonic() - started < 20
    assert len(state.requests) == 2  # the first try and one retry, no more
    assert (tmp_path / "All_Beauty.jsonl.gz.part").stat().st_size == 20  # kept to resume


def test_zip_is_verified_and_unpacked(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ml-100k/u.data", "1\t1\t5\t881250949\n")
        zf.writestr(
            "ml-100k/u.item",
            "1|Toy Story (1995)|01-Jan-1995||url|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
        )
    path = "/datasets/movielens/ml-100k.zip"
    with serve(Behaviour({path: buf.getvalue()})) as base:
        result = run_cli("download", "movielens-100k", "--out", tmp_path / "ml", "--mirror", base)
        with serve(Behaviour({path: b"PK\x03\x04 not a zip"})) as bad_base:
            bad = run_cli("download", "movielens-100k", "--out", tmp_path / "bad", "--mirror", bad_base)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ml" / "ml-100k" / "u.data").is_file()
    assert "ml-100k" in result.stdout
    assert_error(bad, "not a valid zip")


def test_help_lists_every_dataset_with_its_size() -> None:
    result = run_cli("download", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for spec in DATASETS.values():
        assert spec.name in text and " ".join(spec.size.split()) in text, spec.name


def test_categories_and_urls() -> None:
    with pytest.raises(UserError, match="needs a CATEGORY; one of: All_Beauty"):
        get_dataset("amazon2023").resolve(None)
    with pytest.raises(UserError, match="unknown amazon2018 category"):
        get_dataset("amazon2018").resolve("Nope")
    # official host first, then the official mirror of the same tree; a --mirror alone
    urls = urls_of(get_dataset("amazon2018").files("Gift_Cards")[0], None)
    assert urls[0].startswith("https://mcauleylab.ucsd.edu/") and len(urls) == 2
    assert urls_of(_remote(), "http://127.0.0.1:1/x") == [f"http://127.0.0.1:1/x{GZ_PATH}"]
    # the MiniOneRec files are pinned to a commit, with sizes and sums
    files = get_dataset("minionerec").files("Industrial_and_Scientific")
    assert all(f.sha256 and f.size for f in files if not f.optional)
    assert all("/81b4ba98" in f.url for f in files)


def test_download_refuses_a_folder_of_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = run_cli("download", "movielens-100k", "--out", tmp_path, "--mirror", "http://127.0.0.1:1")  # fmt: skip
    assert_error(result, "holds other files")


def test_dry_run_prints_each_files_size_and_downloads_nothing(tmp_path: Path) -> None:
    state = Behaviour({GZ_PATH: b"x" * 3000, META_PATH: b"y" * 10})
    with serve(state) as base:
        result = run_cli("download", "amazon2023", "All_Beauty", "--out", tmp_path / "raw",
                         "--mirror", base, "--dry-run")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2.9 KiB" in result.stdout and "10 B" in result.stdout
    assert {method for method, _, _ in state.requests} == {"HEAD"}
    assert not (tmp_path / "raw").exists()
