from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from _datasets import write_dataset
from profilerec.data.dataset import Dataset
from profilerec.embed.st import SentenceTransformerEmbedder
from profilerec.engines.generation import PARTS_DIR
from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Messages
from profilerec.llm.hf import TransformersGenerator
from profilerec.llm.prompts import load_template
from profilerec.methods.proex.cot import (
    CONFIG_FILE,
    ITEM_FILE,
    NO_HISTORY,
    NO_REVIEWS,
    USER_FILE,
    ProExProfilesConfig,
    profile_vectors,
    run_proex_profiles,
)
from profilerec.recsys.graph import user_order


class Recording:
    """Wraps the real tiny LM and records every call (prompts and decoding settings)."""

    def __init__(self, inner: TransformersGenerator) -> None:
        self.inner, self.model_id = inner, inner.model_id
        self.calls: list[tuple[list[Messages], GenerationConfig]] = []

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        self.calls.append((prompts, config))
        return self.inner.generate(prompts, config)

    @property
    def prompts(self) -> list[str]:
        return [json.dumps(p) for prompts, _ in self.calls for p in prompts]


@pytest.fixture(scope="module")
def lm(tiny_lm_dir: Path) -> TransformersGenerator:
    return TransformersGenerator(str(tiny_lm_dir))


@pytest.fixture(scope="module")
def embedder(tiny_st_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(str(tiny_st_dir))


def reviewed(root: Path) -> Dataset:
    """Six users: 4 training items from ``a*``, then validation and test targets from ``t*``
    (items nobody trains on); every interaction has a unique review marker ``rev-USER-ITEM``.
    ``u07``'s only earlier item shares the test target's timestamp, so it is held out too
    (no training interactions), and ``z01`` is never interacted with."""
    rng = np.random.default_rng(0)
    pool = [f"a{j:02d}" for j in range(1, 9)]
    held = [f"t{j:02d}" for j in range(1, 7)]
    seqs = {
        f"u{n:02d}": [*rng.permutation(pool)[:4], held[(n - 1) % 6], held[n % 6]]
        for n in range(1, 7)
    }
    seqs["u07"] = ["a01", "t01"]
    ds = write_dataset(root, seqs, catalogue=[*pool, *held, "z01"], times={"u07": [5000, 5000]})
    inter = ds.interactions.with_columns(
        review_text=pl.format("rev-{}-{}", pl.col("user_id"), pl.col("item_id"))
    )
    inter.write_parquet(root / "interactions.parquet")
    return Dataset.load(root)


@pytest.fixture
def data(tmp_path: Path) -> Dataset:
    return reviewed(tmp_path / "ds")


def small(**kw: object) -> ProExProfilesConfig:
    return ProExProfilesConfig(**{"batch_size": 4, "max_new_tokens": 8, **kw})  # type: ignore[arg-type]


def test_k_profiles_per_entity_f4_sampled_and_different(
    data: Dataset, lm: TransformersGenerator, tmp_path: Path
) -> None:
    gen = Recording(lm)
    out = run_proex_profiles(data, gen, tmp_path / "p", small(k=3), progress=False)
    users, items = pl.read_parquet(out / USER_FILE), pl.read_parquet(out / ITEM_FILE)
    assert users["user_id"].to_list() == [u for u in user_order(data) for _ in range(3)]
    assert items["item_id"].to_list() == [i for i in data.item_ids for _ in range(3)]
    for frame, col in ((users, "user_id"), (items, "item_id")):
        assert frame["k"].to_list() == [0, 1, 2] * (frame.height // 3)
        assert frame["f2"].null_count() == 0 and frame["f3"].null_count() == 0
        for _, group in frame.group_by(col):
            texts = group.sort("k")["text"].to_list()
            assert len(set(texts)) == 3, texts  # F4 profiles differ from F1 and each other
    # 7 users -> 2 batches, 15 items -> 4 batches; each batch: F1, F2, F3 and 2 x F4.
    assert len(gen.calls) == (2 + 4) * 5
    f4 = [cfg for prompts, cfg in gen.calls if "new profile" in prompts[0][-1]["content"]]
    assert len(f4) == 12 and {c.temperature for c in f4} == {0.9}
    assert {c.seed for c in f4} == {1, 2}  # one seed per new profile
    saved = json.loads((out / CONFIG_FILE).read_text())
    assert saved["k"] == 3 and saved["model_id"] == lm.model_id


def test_k1_makes_only_f1_calls(data: Dataset, lm: TransformersGenerator, tmp_path: Path) -> None:
    gen = Recording(lm)
    out = run_proex_profiles(data, gen, tmp_path / "p", small(k=1), progress=False)
    f1_systems = {load_template(f"proex_f1_{kind}").sections[0][1] for kind in ("user", "item")}
    assert len(gen.calls) == 2 + 4  # one call per batch
    assert all(p[0]["content"] in f1_systems for prompts, _ in gen.calls for p in prompts)
    assert all(cfg.temperature == 0 for _, cfg in gen.calls)
    users = pl.read_parquet(out / USER_FILE)
    assert users["k"].to_list() == [0] * 7 and users["f2"].null_count() == 7


def test_resume_writes_what_an_uninterrupted_run_writes(
    data: Dataset, lm: TransformersGenerator, tmp_path: Path
) -> None:
    config = small(k=2, entities="both")
    full = Recording(lm)
    run_proex_profiles(data, full, tmp_path / "full", config, progress=False)
    with pytest.raises(KeyboardInterrupt):  # killed after 3 of the 6 batches
        run_proex_profiles(data, lm, tmp_path / "cut", config, progress=False, stop_after_batches=3)
    resumed = Recording(lm)
    run_proex_profiles(data, resumed, tmp_path / "cut", config, progress=False)
    assert len(resumed.calls) == len(full.calls) // 2  # only the 3 unfinished batches ran
    for name in (USER_FILE, ITEM_FILE):
        a = pl.read_parquet(tmp_path / "full" / name)
        b = pl.read_parquet(tmp_path / "cut" / name)
        assert a.equals(b)
    again = Recording(lm)
    run_proex_profiles(data, again, tmp_path / "cut", config, progress=False)
    assert again.calls == []


def test_no_heldout_interaction_reaches_any_prompt(
    data: Dataset, lm: TransformersGenerator, tmp_path: Path
) -> None:
    gen = Recording(lm)
    config = small(k=3, snippet_chars=40)
    run_proex_profiles(data, gen, tmp_path / "p", config, progress=False)
    ex = data.examples
    cut = ex.filter(pl.col("split") != "train").group_by("user_id").agg(pl.col("timestamp").min())
    heldout = data.interactions.join(cut, on="user_id", suffix="_cut").filter(
        pl.col("timestamp") >= pl.col("timestamp_cut")
    )
    assert heldout.height == 6 * 2 + 2  # both u07 interactions sit at its test target's time
    prompts = gen.prompts
    train_markers = [
        f"rev-{u}-{i}"
        for u, i in data.train_interactions().select("user_id", "item_id").iter_rows()
    ]
    assert all(any(m in p for p in prompts) for m in train_markers)  # the check is not vacuous
    for marker in heldout["review_text"]:  # reviews: neither in user nor in item prompts
        assert not any(marker in p for p in prompts), marker
    user_prompts = [p for p in prompts if "customer" in p]
    item_f1 = [p for p in prompts if "Product:" in p]
    assert len(item_f1) == len(data.item_ids)
    for title in (f"item t{j:02d}" for j in range(1, 7)):  # only ever targets
        assert not any(title in p for p in user_prompts), title
    f1_user = [p for p in prompts if "past purchases" in p]
    assert len(f1_user) == 7
    empty = [p for p in f1_user if "rev-" not in p]
    assert len(empty) == 1 and NO_HISTORY in empty[0] and "item a01" not in empty[0]  # u07
    for p in f1_user:  # one user's training history each, never another's
        assert len(set(re.findall(r"rev-(u\d\d)-", p))) <= 1
    for item in ("t01", "z01"):  # no training interactions: metadata and no reviews
        (p,) = [p for p in item_f1 if f"item {item}" in p]
        assert NO_REVIEWS in p


def test_profile_vectors_order_shapes_and_diversity(
    data: Dataset, lm: TransformersGenerator, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    out = run_proex_profiles(data, lm, tmp_path / "p", small(k=3), progress=False)
    users, items, div = profile_vectors(data, out, embedder)
    assert users is not None and items is not None
    assert users.shape == (7, 3, embedder.dim) and items.shape == (15, 3, embedder.dim)
    frame = pl.read_parquet(out / USER_FILE)
    u = user_order(data)[4]
    texts = frame.filter(pl.col("user_id") == u).sort("k")["text"].to_list()
    np.testing.assert_allclose(users[4], embedder.embed(texts), atol=1e-5)
    item = data.item_ids[9]
    texts = pl.read_parquet(out / ITEM_FILE).filter(pl.col("item_id") == item).sort("k")["text"]
    np.testing.assert_allclose(items[9], embedder.embed(texts.to_list()), atol=1e-5)

    def by_hand(vecs: np.ndarray) -> float:
        per = []
        for rows in vecs:
            cos = [
                float(rows[a] @ rows[b] / np.linalg.norm(rows[a]) / np.linalg.norm(rows[b]))
                for a in range(len(rows))
                for b in range(len(rows))
                if a != b
            ]
            per.append(sum(cos) / len(cos))
        return sum(per) / len(per)

    assert div["k"] == 3
    assert div["user_mean_pairwise_cosine"] == pytest.approx(by_hand(users), abs=1e-6)
    assert div["item_mean_pairwise_cosine"] == pytest.approx(by_hand(items), abs=1e-6)
    assert div["user_mean_pairwise_cosine"] < 0.999  # the tiny LM's profiles did not collapse

    first2, _, div2 = profile_vectors(data, out, embedder, k=2)  # F1 and the first new one
    assert first2 is not None
    np.testing.assert_allclose(first2, users[:, :2], atol=1e-5)
    assert div2["user_mean_pairwise_cosine"] == pytest.approx(by_hand(users[:, :2]), abs=1e-6)
    only_f1, _, div1 = profile_vectors(data, out, embedder, k=1)
    assert only_f1 is not None and only_f1.shape[1] == 1
    assert div1["user_mean_pairwise_cosine"] is None
    with pytest.raises(UserError):
        profile_vectors(data, out, embedder, k=4)


def test_collapsed_profiles_show_as_cosine_one(
    data: Dataset, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    ids = user_order(data)
    pl.DataFrame(
        {"user_id": [u for u in ids for _ in range(3)], "k": [0, 1, 2] * len(ids)}
    ).with_columns(
        text=pl.format("likes {}", "user_id"), f2=pl.lit(""), f3=pl.lit("")
    ).write_parquet(tmp_path / USER_FILE)
    users, items, div = profile_vectors(data, tmp_path, embedder)
    assert items is None and users is not None
    assert div["user_mean_pairwise_cosine"] == pytest.approx(1.0, abs=1e-5)
    assert div["item_mean_pairwise_cosine"] is None


def test_users_only_and_bad_inputs(
    data: Dataset, lm: TransformersGenerator, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    out = run_proex_profiles(data, lm, tmp_path / "p", small(k=1, entities="users"), progress=False)
    assert (out / USER_FILE).is_file() and not (out / ITEM_FILE).is_file()
    other = write_dataset(tmp_path / "other", {"x": ["a", "b", "c"]})
    with pytest.raises(UserError, match="do not cover"):
        profile_vectors(other, out, embedder)
    with pytest.raises(UserError, match="no ProEx profiles"):
        profile_vectors(data, tmp_path / "empty", embedder)
    for bad in ({"k": 0}, {"entities": "people"}, {"k": 2, "temperature": 0.0}):
        with pytest.raises(UserError):
            ProExProfilesConfig(**bad)  # type: ignore[arg-type]


def test_parts_of_the_scheme_before_the_engine_resume(
    data: Dataset, lm: TransformersGenerator, tmp_path: Path
) -> None:
    config = small(k=2)
    run_proex_profiles(data, lm, tmp_path / "full", config, progress=False)
    # a run killed under the earlier scheme: user parts as (key, texts, f2, f3), no item part
    (tmp_path / "old" / PARTS_DIR).mkdir(parents=True)
    for part in (tmp_path / "full" / PARTS_DIR).glob("user-*.parquet"):
        frame = pl.read_parquet(part)
        chains = [json.loads(c) for c in frame["chain"]]
        pl.DataFrame(
            {"key": frame["cache_key"], "texts": [c[0] for c in chains]}
            | {"f2": [c[1] for c in chains], "f3": [c[2] for c in chains]},
            schema={
                "key": pl.String,
                "texts": pl.List(pl.String),
                "f2": pl.String,
                "f3": pl.String,
            },
        ).write_parquet(tmp_path / "old" / PARTS_DIR / part.name)
    resumed = Recording(lm)
    run_proex_profiles(data, resumed, tmp_path / "old", config, progress=False)
    assert len(resumed.calls) == 4 * -(-data.items.height // 4)  # only item chains: F1-F4
    for name in (USER_FILE, ITEM_FILE):
        assert pl.read_parquet(tmp_path / "full" / name).equals(
            pl.read_parquet(tmp_path / "old" / name)
        )
