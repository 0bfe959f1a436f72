"""Score fusion: weight 0 is the ID model exactly, 1 the text method, between z-scored."""

from __future__ import annotations

import torch

from profilerec.recsys.hybrid import fuse, zscore


def test_weight_zero_is_the_id_model_exactly() -> None:
    gen = torch.Generator().manual_seed(0)
    ids, text = torch.rand(4, 9, generator=gen), torch.rand(4, 9, generator=gen)
    assert fuse(ids, text, 0.0) is ids
    assert torch.equal(fuse(ids, text, 1.0), text)


def test_fusion_mixes_z_scores() -> None:
    ids = torch.tensor([[0.0, 10.0, 20.0]])  # large scale
    text = torch.tensor([[0.3, 0.2, 0.1]])  # small scale, opposite order
    assert torch.allclose(fuse(ids, text, 0.5), torch.zeros(1, 3), atol=1e-6)
    assert fuse(ids, text, 0.4).argmax() == 2 and fuse(ids, text, 0.6).argmax() == 0
    assert torch.equal(zscore(torch.ones(2, 3)), torch.zeros(2, 3))
