"""CachedEmbedder: what reaches the inner embedder, what comes back, and in which order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from profilerec.embed.cache import LOOKUP_CHUNK, CachedEmbedder, cache_file
from profilerec.errors import DataError, UserError


class CountingEmbedder:
    """A real, deterministic Embedder that records every batch it is asked to embed.

    Row for text t: ``scale * [len(t), t.count("a"), 1]``, so expected values are hand-computable.
    """

    dim = 3

    def __init__(self, model_id: str = "counting", scale: float = 1.0) -> None:
        self.model_id = model_id
        self.scale = scale
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        rows = [[self.scale * len(t), self.scale * t.count("a"), self.scale] for t in texts]
        return np.array(rows, dtype=np.float32).reshape(-1, 3)


def test_second_call_is_all_hits_and_identical(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    texts = ["banana", "kiwi", "papaya"]
    first = cached.embed(texts)
    second = cached.embed(texts)
    np.testing.assert_array_equal(first, [[6, 3, 1], [4, 0, 1], [6, 3, 1]])
    np.testing.assert_array_equal(second, first)
    assert second.dtype == np.float32
    assert inner.calls == [texts]
    assert (cached.hits, cached.misses) == (3, 3)


def test_mixed_hits_and_misses_keep_input_order(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    cached.embed(["aa", "b"])
    out = cached.embed(["ccc", "aa", "dddd", "b"])
    assert inner.calls == [["aa", "b"], ["ccc", "dddd"]]
    np.testing.assert_array_equal(out, [[3, 0, 1], [2, 2, 1], [4, 0, 1], [1, 0, 1]])
    assert (cached.hits, cached.misses) == (2, 4)


def test_duplicates_in_one_call_are_embedded_once(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    out = cached.embed(["xa", "y", "xa", "xa"])
    assert inner.calls == [["xa", "y"]]
    np.testing.assert_array_equal(out, [[2, 1, 1], [1, 0, 1], [2, 1, 1], [2, 1, 1]])
    assert (cached.hits, cached.misses) == (0, 4)


def test_cache_persists_across_instances(tmp_path: Path) -> None:
    CachedEmbedder(CountingEmbedder(), tmp_path).embed(["one", "two"])
    inner = CountingEmbedder()
    again = CachedEmbedder(inner, tmp_path)
    np.testing.assert_array_equal(again.embed(["two", "one"]), [[3, 0, 1], [3, 0, 1]])
    assert inner.calls == []
    assert again.hits == 2


def test_model_ids_do_not_share_entries(tmp_path: Path) -> None:
    a = CachedEmbedder(CountingEmbedder("model-a", scale=1.0), tmp_path)
    inner_b = CountingEmbedder("model-b", scale=2.0)
    b = CachedEmbedder(inner_b, tmp_path)
    np.testing.assert_array_equal(a.embed(["ab"]), [[2, 1, 1]])
    np.testing.assert_array_equal(b.embed(["ab"]), [[4, 2, 2]])
    assert inner_b.calls == [["ab"]]
    assert a.path != b.path
    assert a.path == cache_file(tmp_path, "model-a")


def test_lookup_spans_several_chunks(tmp_path: Path) -> None:
    texts = [f"text {i}" + "a" * (i % 7) for i in range(2 * LOOKUP_CHUNK + 37)]
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    first = cached.embed(texts)
    second = cached.embed(texts[::-1])
    np.testing.assert_array_equal(second, first[::-1])
    assert len(inner.calls) == 1
    assert cached.hits == len(texts)
    assert first[10].tolist() == [len("text 10aaa"), 3, 1]


def test_empty_input_never_calls_inner(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    out = CachedEmbedder(inner, tmp_path).embed([])
    assert out.shape == (0, 3)
    assert inner.calls == []


def test_unicode_texts_round_trip(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    texts = ["crème brûlée", "日本語", ""]
    first = cached.embed(texts)
    np.testing.assert_array_equal(cached.embed(texts), first)
    np.testing.assert_array_equal(first[1], [3, 0, 1])
    assert len(inner.calls) == 1


class WrongShapeEmbedder(CountingEmbedder):
    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return np.zeros((len(texts) + 1, 3), dtype=np.float32)


def test_wrong_shape_from_inner_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="returned shape"):
        CachedEmbedder(WrongShapeEmbedder(), tmp_path).embed(["a", "b"])


def test_corrupt_cache_file_is_a_data_error(tmp_path: Path) -> None:
    cache_file(tmp_path, "counting").write_bytes(b"this is not a sqlite database" * 100)
    with pytest.raises(DataError, match="delete the file"):
        CachedEmbedder(CountingEmbedder(), tmp_path)


def test_dimension_change_under_same_id_is_detected(tmp_path: Path) -> None:
    CachedEmbedder(CountingEmbedder("same-id"), tmp_path).embed(["x"])

    class Wider(CountingEmbedder):
        dim = 4

    with pytest.raises(DataError, match="3 dims"):
        CachedEmbedder(Wider("same-id"), tmp_path).embed(["x"])


def test_parallel_writers_share_one_file(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    batches = [[f"item {i}" for i in range(start, start + 60)] for start in range(0, 240, 30)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outs = list(
            pool.map(lambda b: CachedEmbedder(CountingEmbedder(), tmp_path).embed(b), batches)
        )
    for batch, out in zip(batches, outs, strict=True):
        np.testing.assert_array_equal(out[:, 0], [len(t) for t in batch])
    inner = CountingEmbedder()
    everything = [f"item {i}" for i in range(270)]
    CachedEmbedder(inner, tmp_path).embed(everything)
    assert inner.calls == []


def test_non_string_text_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="item 1 is NoneType"):
        CachedEmbedder(CountingEmbedder(), tmp_path).embed(["ok", None])  # type: ignore[list-item]


class FailingAfter(CountingEmbedder):
    """Embeds ``ok_calls`` batches, then fails like an interrupted run."""

    def __init__(self, ok_calls: int) -> None:
        super().__init__()
        self.ok_calls = ok_calls

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if len(self.calls) == self.ok_calls:
            raise KeyboardInterrupt
        return super().embed(texts, progress=progress)


def test_interrupted_run_keeps_finished_chunks(tmp_path: Path) -> None:
    texts = [f"t{i}" for i in range(10)]
    with pytest.raises(KeyboardInterrupt):
        CachedEmbedder(FailingAfter(ok_calls=2), tmp_path, write_every=4).embed(texts)
    inner = CountingEmbedder()
    resumed = CachedEmbedder(inner, tmp_path, write_every=4)
    out = resumed.embed(texts)
    assert inner.calls == [texts[8:]]
    assert (resumed.hits, resumed.misses) == (8, 2)
    np.testing.assert_array_equal(out[:, 0], [2] * 10)
