"""Bidirectional profiling with the tiny LM: rows, leakage, resume and the vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from _datasets import write_dataset
from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Messages
from profilerec.methods.pte.profiling import (
    ITEMS_FILE,
    USERS_FILE,
    PtEProfilesConfig,
    run_pte_profiles,
    selected_vectors,
)
from profilerec.profile.stage import PARTS_DIR

TRAIN = {
    "u1": ["a", "b", "c"],
    "u2": ["a", "b", "d"],
    "u3": ["c", "d", "e"],
    "u4": ["e", "f", "a"],
    "u5": ["b", "f"],
}
HELD_OUT = {u: [f"HELDOUT-v-{u}", f"HELDOUT-t-{u}"] for u in TRAIN}
# the same training data, but validation/test targets that other users trained on
SHARED = {"u1": ["f", "e"], "u2": ["e", "c"], "u3": ["a", "b"], "u4": ["b", "c"], "u5": ["c", "d"]}
CATALOGUE = sorted(
    {i for s in TRAIN.values() for i in s} | {i for p in HELD_OUT.values() for i in p}
)
FAST = {"max_new_tokens": 4, "batch_size": 3}


class Recording:
    """Wraps the real tiny generator; keeps every prompt and decoding config it is given."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.model_id = inner, inner.model_id
        self.prompts: list[Messages] = []
        self.configs: list[GenerationConfig] = []
        self.calls = 0

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        self.prompts += prompts
        self.configs += [config] * len(prompts)
        self.calls += 1
        out: list[str] = self.inner.generate(prompts, config)
        return out


@pytest.fixture(scope="module")
def lm(tiny_lm_dir: Path) -> Any:
    from profilerec.llm.hf import TransformersGenerator

    return TransformersGenerator(str(tiny_lm_dir), batch_size=4, threads=1)


@pytest.fixture(scope="module")
def embedder(tiny_st_dir: Path) -> Any:
    from profilerec.embed.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(tiny_st_dir))


def _data(root: Path, held_out: dict[str, list[str]]) -> Any:
    return write_dataset(root, {u: TRAIN[u] + held_out[u] for u in TRAIN}, catalogue=CATALOGUE)


@pytest.mark.parametrize(("rounds", "candidates"), [(0, 2), (2, 3)])
def test_rounds_and_candidates_make_the_right_rows(
    tmp_path: Path, lm: Any, embedder: Any, rounds: int, candidates: int
) -> None:
    ds = _data(tmp_path / "ds", HELD_OUT)
    gen = Recording(lm)
    cfg = PtEProfilesConfig(rounds=rounds, candidates=candidates, temperature=1.0, **FAST)
    out = run_pte_profiles(ds, gen, embedder, tmp_path / "out", cfg, progress=False)
    warm_items = sorted({i for s in TRAIN.values() for i in s})
    for name, col, entities in (
        (USERS_FILE, "user_id", list(TRAIN)),
        (ITEMS_FILE, "item_id", warm_items),
    ):
        frame = pl.read_parquet(out / name)
        assert frame.height == len(entities) * (rounds + candidates)
        for r in range(rounds + 1):
            at = frame.filter(pl.col("round") == r)
            n_cand = candidates if r == rounds else 1
            assert sorted(at[col].unique()) == sorted(entities)
            assert at.group_by(col).agg(pl.col("candidate").sort())["candidate"].to_list() == [
                list(range(n_cand))
            ] * len(entities)
        final = frame.filter(pl.col("round") == rounds)
        assert final["reward"].null_count() == 0  # the tiny LM writes no empty profile here
        for _, group in final.group_by(col):
            group = group.sort("candidate")
            assert group["selected"].sum() == 1
            assert group["selected"].arg_max() == group["reward"].arg_max()
            assert group["advantage"].sum() == pytest.approx(0.0, abs=1e-6)
        earlier = frame.filter(pl.col("round") < rounds)
        assert earlier["reward"].null_count() == earlier.height and earlier["selected"].all()
    assert len(gen.prompts) == (len(TRAIN) + len(warm_items)) * (rounds + candidates)
    # candidates: instruction variants and sampling with a seed each; earlier rounds greedy
    finals = gen.configs[-len(warm_items) * candidates :]
    assert sorted({c.seed for c in finals}) == list(range(candidates))
    assert {c.temperature for c in finals} == {0.0, 1.0}
    earlier_prompts = (len(TRAIN) + len(warm_items)) * rounds
    assert all(c.temperature == 0.0 for c in gen.configs[:earlier_prompts])
    variants = {p[-1]["content"] for p in gen.prompts[-len(warm_items) * candidates :]}
    assert len(variants) == len(warm_items) * candidates


def test_no_validation_or_test_interaction_reaches_a_prompt(
    tmp_path: Path, lm: Any, embedder: Any
) -> None:
    cfg = PtEProfilesConfig(rounds=1, candidates=2, temperature=1.0, **FAST)
    runs = {}
    for name, held_out in (("unique", HELD_OUT), ("shared", SHARED)):
        gen = Recording(lm)
        out = run_pte_profiles(
            _data(tmp_path / name, held_out),
            gen,
            embedder,
            tmp_path / f"out-{name}",
            cfg,
            progress=False,
        )
        runs[name] = (
            gen.prompts,
            pl.read_parquet(out / USERS_FILE),
            pl.read_parquet(out / ITEMS_FILE),
        )
    prompts = runs["unique"][0]
    assert any("item a" in json.dumps(p) for p in prompts)
    assert not any("HELDOUT" in json.dumps(p) for p in prompts)  # no target title, ever
    # targets other users trained on: items are induced from the same training audiences
    assert runs["shared"][2]["item_id"].to_list() == runs["unique"][2]["item_id"].to_list()
    # held-out items are not profiled at all (no training user to induce them from)
    assert not runs["unique"][2]["item_id"].str.contains("HELDOUT").any()


def test_killed_and_resumed_equals_uninterrupted(tmp_path: Path, lm: Any, embedder: Any) -> None:
    ds = _data(tmp_path / "ds", HELD_OUT)
    cfg = PtEProfilesConfig(rounds=1, candidates=2, temperature=1.0, seed=3, **FAST)
    whole_gen = Recording(lm)
    whole = run_pte_profiles(ds, whole_gen, embedder, tmp_path / "whole", cfg, progress=False)

    gen = Recording(lm)
    with pytest.raises(KeyboardInterrupt):
        run_pte_profiles(
            ds, gen, embedder, tmp_path / "resumed", cfg, progress=False, stop_after_batches=5
        )
    assert len(list((tmp_path / "resumed" / PARTS_DIR).glob("part-*.parquet"))) == 5
    assert not (tmp_path / "resumed" / USERS_FILE).exists()
    resumed = run_pte_profiles(ds, gen, embedder, tmp_path / "resumed", cfg, progress=False)
    assert gen.calls == whole_gen.calls  # the 5 finished batches were not generated again
    for name in (USERS_FILE, ITEMS_FILE):
        assert pl.read_parquet(whole / name).equals(pl.read_parquet(resumed / name))
    # a finished run re-run generates nothing
    again = Recording(lm)
    run_pte_profiles(ds, again, embedder, tmp_path / "resumed", cfg, progress=False)
    assert again.calls == 0


def test_selected_vectors_pick_the_requested_profiles(
    tmp_path: Path, lm: Any, embedder: Any
) -> None:
    seqs = {u: TRAIN[u] + HELD_OUT[u] for u in TRAIN} | {"u9": ["c", "HELDOUT-t-u9"]}
    # u9's only other item shares its target's timestamp: no training interaction at all
    ds = write_dataset(
        tmp_path / "ds", seqs, catalogue=[*CATALOGUE, "HELDOUT-t-u9"], times={"u9": [5000, 5000]}
    )
    cfg = PtEProfilesConfig(rounds=1, candidates=3, temperature=1.0, **FAST)
    out = run_pte_profiles(ds, lm, embedder, tmp_path / "out", cfg, progress=False)
    users, items = pl.read_parquet(out / USERS_FILE), pl.read_parquet(out / ITEMS_FILE)
    assert "u9" not in users["user_id"].to_list()
    user_order = sorted(seqs)
    for which, rows in (
        ("selected", users.filter((pl.col("round") == 1) & pl.col("selected"))),
        ("first", users.filter((pl.col("round") == 1) & (pl.col("candidate") == 0))),
        ("round0", users.filter(pl.col("round") == 0)),
    ):
        u_vecs, i_vecs = selected_vectors(ds, out, embedder, which=which)  # type: ignore[arg-type]
        assert u_vecs.shape == (len(user_order), embedder.dim)
        assert i_vecs.shape == (len(ds.item_ids), embedder.dim)
        text = dict(zip(rows["user_id"], rows["text"], strict=True))
        expected = embedder.embed([text["u2"]])[0]
        np.testing.assert_allclose(u_vecs[user_order.index("u2")], expected, atol=1e-5)
        assert not u_vecs[user_order.index("u9")].any()  # no training items: zeros
        cold = ds.item_index["HELDOUT-t-u1"]  # unprofiled item: its catalogue text
        np.testing.assert_allclose(
            i_vecs[cold], embedder.embed([ds.item_texts()[cold]])[0], atol=1e-5
        )
    selected_item = items.filter(
        (pl.col("round") == 1) & pl.col("selected") & (pl.col("item_id") == "a")
    )
    _, i_vecs = selected_vectors(ds, out, embedder)
    np.testing.assert_allclose(
        i_vecs[ds.item_index["a"]], embedder.embed(selected_item["text"].to_list())[0], atol=1e-5
    )
    with pytest.raises(UserError, match="selected, first or round0"):
        selected_vectors(ds, out, embedder, which="best")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="no PtE profiles"):
        selected_vectors(ds, tmp_path, embedder)


def test_neighbour_notes_never_name_the_users_own_held_out_targets(tmp_path: Path) -> None:
    """Neighbours' training items are collaborative signal, but one of them may be this
    user's own validation/test target: that one must not reach the user's prompt."""
    from profilerec.methods.pte.prompts import Prompts, TrainingSide

    ds = _data(tmp_path / "shared", SHARED)
    cfg = PtEProfilesConfig(rounds=0, candidates=1, neighbour_items=10, **FAST)
    train = TrainingSide.build(ds, cfg.neighbours)
    prompts = Prompts(train, cfg)
    named_elsewhere = 0
    for user in TRAIN:
        text = json.dumps(prompts.user(user, "plain"))
        for item in SHARED[user]:
            assert f"item {item}" not in text, (user, item)
        others = [json.dumps(prompts.user(v, "plain")) for v in TRAIN if v != user]
        named_elsewhere += any(f"item {i}" in t for i in SHARED[user] for t in others)
    assert named_elsewhere  # the held-out items do appear in other users' notes


def test_zero_refinement_rounds_is_accepted_where_rft_rounds_are_not() -> None:
    """``--rounds 0`` (the single pass its help offers) passes the validation layer."""
    from profilerec.configs import from_mapping
    from profilerec.errors import UserError
    from profilerec.methods.pte.profiling import PtEProfilesConfig
    from profilerec.methods.rft.config import RFTConfig

    assert from_mapping(PtEProfilesConfig, {}, "--set", rounds=0).rounds == 0
    with pytest.raises(UserError, match="rounds"):
        from_mapping(PtEProfilesConfig, {}, "--set", rounds=-1)
    with pytest.raises(UserError, match="rounds"):
        from_mapping(RFTConfig, {}, "--set", rounds=0)
