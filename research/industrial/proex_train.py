"""ProEx on Industrial (issue 35): tune each backbone on validation, then X vs X+proex on test.

Steps (each resumable: a finished step's file is kept and skipped on a rerun):

1. ``tune``: every backbone alone (no profiles) on a small grid, each grid point trained on
   the training interactions with early stopping on validation NDCG@10 (``patience`` checks
   of ``eval_every`` epochs); the grid point with the best validation NDCG@10 wins.
   ``OUT/tuning.json``. The test split is never read here.
2. ``run``: the profiles of ``proex_jobs.sh`` (users and items in two folders) joined, embedded
   with the bundled MiniLM, and ``run_proex`` with each backbone's chosen point, X and X+proex
   both early-stopped on validation: ``OUT/main`` (metrics.json, ranks.parquet, slices.json).
3. ``control``: the same with every profile vector replaced by a random vector of the same
   norm (seeded): if X+proex beats X but X+random does as well, the text did not help.
   ``OUT/control``.
4. ``ablate``: user-side profiles only, item-side only, and one environment (E = 1), each
   ``OUT/ablate_NAME_BACKBONES`` (e.g. ``--backbones lightgcn`` and ``--backbones simgcl`` as two
   processes).

Usage: OMP_NUM_THREADS=1 python research/industrial/proex_train.py tune|run|control|ablate
       [--backbones lightgcn,simgcl,multvae,ldiffrec] [--out runs/industrial/proex]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from profilerec.atomic import write_text_atomic
from profilerec.data.dataset import Dataset
from profilerec.embed import load_embedder
from profilerec.methods.proex.config import BACKBONE_CONFIGS, ProExConfig
from profilerec.methods.proex.cot import ITEM_FILE, USER_FILE, profile_vectors
from profilerec.methods.proex.run import run_proex
from profilerec.methods.proex.train import evaluate_backbone, train_proex
from profilerec.profile.quality import profile_quality
from profilerec.recsys.graph import user_order

#: A small grid per backbone around its defaults (learning rate and the main regulariser).
GRID: dict[str, dict[str, list[Any]]] = {
    "lightgcn": {"lr": [1e-3, 5e-3], "reg_weight": [1e-4, 1e-3]},
    "simgcl": {"lr": [1e-3, 5e-3], "cl_weight": [0.05, 0.2]},
    "multvae": {"lr": [1e-3, 5e-3], "dropout": [0.5]},
    "ldiffrec": {"lr": [1e-3, 5e-3], "dropout": [0.5]},
}
EARLY = {"patience": 3, "eval_every": 5}
EPOCHS = {"lightgcn": 200, "simgcl": 100, "multvae": 300, "ldiffrec": 300}


def points(backbone: str) -> list[dict[str, Any]]:
    grid = GRID[backbone]
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def tune(ds: Dataset, out: Path, backbones: list[str]) -> dict[str, Any]:
    path = out / "tuning.json"
    done: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    for backbone in backbones:
        for point in points(backbone):
            key = f"{backbone} {json.dumps(point, sort_keys=True)}"
            if key in done:
                continue
            bcfg = BACKBONE_CONFIGS[backbone](epochs=EPOCHS[backbone], **point)  # type: ignore[arg-type]
            start = time.perf_counter()
            model = train_proex(
                ds, backbone, None, None, ProExConfig(backbone_config=bcfg, threads=1, **EARLY)
            )
            ndcg = float(evaluate_backbone(model, ds, "valid", ks=(10,))["ndcg@10"].mean())
            done[key] = {
                "backbone": backbone,
                "point": point,
                "valid_ndcg@10": ndcg,
                "seconds": round(time.perf_counter() - start, 1),
            }
            print(f"{key}: valid NDCG@10 {ndcg:.4f} ({done[key]['seconds']} s)", flush=True)
            write_text_atomic(path, json.dumps(done, indent=2))
    return done


def chosen(out: Path, backbones: list[str]) -> dict[str, Any]:
    done = json.loads((out / "tuning.json").read_text())
    best = {}
    for backbone in backbones:
        rows = [r for r in done.values() if r["backbone"] == backbone]
        if len(rows) < len(points(backbone)):
            raise SystemExit(f"{backbone}: tuning not finished; run the tune step first")
        top = max(rows, key=lambda r: r["valid_ndcg@10"])
        best[backbone] = BACKBONE_CONFIGS[backbone](epochs=EPOCHS[backbone], **top["point"])  # type: ignore[arg-type]
    return best


def joined_profiles(out: Path) -> Path:
    """One folder with both sides' files (symlinks), as ``profile_vectors`` reads them."""
    both = out / "profiles"
    both.mkdir(parents=True, exist_ok=True)
    for side, name in (("users", USER_FILE), ("items", ITEM_FILE)):
        source = (out / f"profiles_{side}" / name).resolve()
        if not source.is_file():
            raise SystemExit(f"{source}: not written yet; finish proex_jobs.sh first")
        link = both / name
        if not link.exists():
            link.symlink_to(source)
    return both


def same_norm_random(vectors: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(vectors.shape).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=-1, keepdims=True)
    return noise * np.linalg.norm(vectors, axis=-1, keepdims=True)


def source_texts(ds: Dataset) -> tuple[list[str], list[str]]:
    """What each profile may draw on: a user's training items (titles, own reviews) in
    ``user_order``; an item's catalogue text and its training reviews, in catalogue order."""
    rows = ds.train_interactions().join(ds.items.select("item_id", "title"), on="item_id")
    by_user: dict[str, list[str]] = {}
    by_item: dict[str, list[str]] = {}
    for r in rows.iter_rows(named=True):
        line = f"{r['title'] or ''} {r['review_title'] or ''} {r['review_text'] or ''}"
        by_user.setdefault(r["user_id"], []).append(line)
        by_item.setdefault(r["item_id"], []).append(
            f"{r['review_title'] or ''} {r['review_text'] or ''}"
        )
    users = ["\n".join(by_user.get(u, [])) for u in user_order(ds)]
    items = [
        f"{text}\n" + "\n".join(by_item.get(i, []))
        for i, text in zip(ds.item_ids, ds.item_texts(), strict=True)
    ]
    return users, items


def quality(ds: Dataset, folder: Path, users: np.ndarray, items: np.ndarray) -> dict[str, Any]:
    """Profile quality of each side and each k (k=0: F1, k=1: the sampled F4 rewrite)."""
    user_src, item_src = source_texts(ds)
    catalogue = ds.item_texts()
    out: dict[str, Any] = {}
    for side, order, src, vecs in (
        ("user", user_order(ds), user_src, users),
        ("item", ds.item_ids, item_src, items),
    ):
        frame = pl.read_parquet(folder / (USER_FILE if side == "user" else ITEM_FILE))
        pos = pl.DataFrame({f"{side}_id": order, "_pos": list(range(len(order)))})
        for k in range(vecs.shape[1]):
            texts = (
                (frame.filter(pl.col("k") == k).join(pos, on=f"{side}_id").sort("_pos")["text"])
                .fill_null("")
                .to_list()
            )
            out[f"{side}_k{k}"] = profile_quality(texts, src, catalogue, vecs[:, k, :])
    return out


def run(ds: Dataset, out: Path, backbones: list[str], control: bool) -> None:
    target = out / ("control" if control else "main")
    if (target / "metrics.json").is_file():
        print(f"{target}: done")
        return
    configs = chosen(out, backbones)
    embedder = load_embedder("sentence-transformers")
    folder = joined_profiles(out)
    users, items, diversity = profile_vectors(ds, folder, embedder)
    assert users is not None and items is not None
    if not control:
        target.mkdir(parents=True, exist_ok=True)
        write_text_atomic(
            target / "profile_quality.json",
            json.dumps(quality(ds, folder, users, items), indent=2, default=float),
        )
    if control:
        users, items = same_norm_random(users, 0), same_norm_random(items, 1)
        diversity = {**diversity, "control": "random vectors of each profile vector's norm"}
    config = ProExConfig(threads=1, **EARLY)
    start = time.perf_counter()
    result = run_proex(
        ds,
        target,
        backbones=backbones,
        user_vecs=users,
        item_vecs=items,
        config=config,
        diversity=diversity,
        backbone_configs=configs,
    )
    write_text_atomic(
        target / "tuning_choice.json",
        json.dumps({b: dataclasses.asdict(c) for b, c in configs.items()}, indent=2),
    )
    print(f"{target}: {time.perf_counter() - start:.0f} s")
    for c in result["comparisons"]:
        if c["metric"] == "ndcg@10":
            print(c["method"], c["reference"], c["mean_diff"], c.get("p_value"))


#: Where X+proex does not beat X: which part fails (issue 35, item 4).
ABLATIONS = {"user_only": ("users",), "item_only": ("items",), "one_env": ("users", "items")}


def ablate(ds: Dataset, out: Path, backbones: list[str]) -> None:
    """X vs X+proex with one side's profiles only, and with one environment (E = 1: one
    Dirichlet draw per batch, so the variance penalty has nothing to compare)."""
    configs = chosen(out, backbones)
    embedder = load_embedder("sentence-transformers")
    users, items, diversity = profile_vectors(ds, joined_profiles(out), embedder)
    for name, sides in ABLATIONS.items():
        target = out / f"ablate_{name}_{'-'.join(backbones)}"
        if (target / "metrics.json").is_file():
            print(f"{target}: done")
            continue
        envs = 1 if name == "one_env" else ProExConfig().n_envs
        start = time.perf_counter()
        result = run_proex(
            ds,
            target,
            backbones=backbones,
            user_vecs=users if "users" in sides else None,
            item_vecs=items if "items" in sides else None,
            config=ProExConfig(threads=1, n_envs=envs, **EARLY),
            diversity={**diversity, "ablation": name},
            backbone_configs=configs,
        )
        print(f"{target}: {time.perf_counter() - start:.0f} s")
        for c in result["comparisons"]:
            if c["metric"] == "ndcg@10":
                print(name, c["method"], c["reference"], c["mean_diff"], c.get("p_value"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["tune", "run", "control", "ablate"])
    parser.add_argument("--data", default="runs/industrial/data")
    parser.add_argument("--out", default="runs/industrial/proex")
    parser.add_argument("--backbones", default="lightgcn,simgcl,multvae,ldiffrec")
    args = parser.parse_args()
    ds = Dataset.load(args.data)
    out = Path(args.out)
    backbones = [b for b in args.backbones.split(",") if b]
    if args.step == "tune":
        tune(ds, out, backbones)
    elif args.step == "ablate":
        ablate(ds, out, backbones)
    else:
        run(ds, out, backbones, control=args.step == "control")


if __name__ == "__main__":
    main()
