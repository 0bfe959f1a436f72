"""After ``prepare``: a downloaded dataset's counts against the published ones."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from _http_server import Behaviour, serve
from bad_input._cli import run_cli
from profilerec.data.download import DownloadOptions, download
from profilerec.data.known_stats import check_published, identify
from profilerec.data.registry import get_dataset

TEST_SHA = "973dd1db4fd549f3f2b40a0f039dbae157ebb92c716197cc246401e4e82c3a46"


def _manifest(path: str, sha: str, test: int, valid: int, items: int) -> dict[str, object]:
    counts = {"users": 1, "items": items, "interactions": 1, "interactions_read": 1,
              "examples": {"test": test, "valid": valid, "train": 9}}  # fmt: skip
    return {"sources": [{"path": path, "sha256": sha}], "counts": counts}


def test_a_pinned_file_is_recognised_by_its_sha256_and_its_counts_checked(tmp_path: Path) -> None:
    right = _manifest(str(tmp_path / "x.csv"), TEST_SHA, 4533, 4532, 3686)
    found = identify(right)
    assert found is not None and found[0].name == "minionerec"
    assert found[1] == "Industrial_and_Scientific"
    assert check_published(right) == []
    wrong = _manifest(str(tmp_path / "x.csv"), TEST_SHA, 4000, 4532, 3686)
    (warning,) = check_published(wrong)
    assert "test is 4000" in warning and "4,533" in warning
    assert check_published(_manifest(str(tmp_path / "x.csv"), "ab" * 32, 1, 1, 1)) == []


def _ml100k_zip() -> bytes:
    ratings = "".join(f"{u}\t{i}\t4\t{881250000 + 10 * u + i}\n" for u in range(1, 4) for i in range(1, 7))  # fmt: skip
    flags = "|".join("0" * 19)
    items = "".join(f"{i}|Movie {i} (1995)|01-Jan-1995||http://x|{flags}\n" for i in range(1, 7))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ml-100k/u.data", ratings)
        zf.writestr("ml-100k/u.item", items)
    return buf.getvalue()


def test_prepare_warns_when_a_download_misses_the_published_figures(tmp_path: Path) -> None:
    state = Behaviour({"/datasets/movielens/ml-100k.zip": _ml100k_zip()})
    options = DownloadOptions(read_timeout=2, connect_timeout=2, backoff=0, progress=False)
    with serve(state) as base:
        spec = get_dataset("movielens-100k")
        download(spec, "", tmp_path / "raw", DownloadOptions(**{**options.__dict__, "mirror": base}))  # fmt: skip
    result = run_cli("prepare", tmp_path / "raw" / "ml-100k", "--format", "movielens",
                     "--k-core", "0", "--out", tmp_path / "data")  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stderr.split())
    assert "movielens-100k: interactions_read is 18, the published figure is 100,000" in text
