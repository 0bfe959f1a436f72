"""What a profiler training run has seen, per user, so its adapter is never scored on it.

A trained adapter may be evaluated on any example whose target (and everything after it)
never reached the run: not a training prompt, not a reward, not the validation that picked
its step. User-disjoint splits guarantee that by construction; a leave-last-out test of the
same users does only when the run's rewards never looked past the prompt's history (the
coverage reward, ``positives_from: history``). ``train`` writes ``RUN/exposure.parquet``
and ``profile --adapter RUN`` checks every example against it.

Schema of ``exposure.parquet``: ``user_id`` (str), ``role`` (``train``: a prompt or a reward
of training; ``selection``: a validation example that picked the best step), ``seen_until``
(int64, the latest timestamp of the user's interactions that reached that role). An example
is exposed when ``seen_until >= `` its target's timestamp (ties count as exposed).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.errors import UserError

EXPOSURE_FILE = "exposure.parquet"
ROLES = ("train", "selection")


def _history_until(ds: Dataset, examples: pl.DataFrame) -> pl.DataFrame:
    """Per example: the latest timestamp among its history items (null without history)."""
    hist = (
        examples.select("example_id", "user_id", pl.col("timestamp").alias("_t"), "history")
        .explode("history")
        .drop_nulls("history")
        .join(
            ds.interactions.select("user_id", "item_id", "timestamp"),
            left_on=["user_id", "history"],
            right_on=["user_id", "item_id"],
        )
        .filter(pl.col("timestamp") <= pl.col("_t"))
        .group_by("example_id")
        .agg(pl.col("timestamp").max().alias("_h"))
    )
    return examples.select("example_id", "user_id", "timestamp").join(
        hist, on="example_id", how="left"
    )


def _future_until(ds: Dataset, examples: pl.DataFrame, n_items: int) -> pl.DataFrame:
    """Per example (``example_id``, ``_f``): the timestamp of the last of its target plus
    ``n_items - 1`` later training interactions (the positives of ``next_train_items``)."""
    later = (
        examples.select("example_id", "user_id", pl.col("timestamp").alias("_t"))
        .join(ds.train_interactions().select("user_id", "timestamp"), on="user_id")
        .filter(pl.col("timestamp") > pl.col("_t"))
        .sort("example_id", "timestamp")
        .group_by("example_id")
        .agg(pl.col("timestamp").head(max(n_items - 1, 0)).max().alias("_l"))
    )
    return (
        examples.select("example_id", "timestamp")
        .join(later, on="example_id", how="left")
        .select("example_id", pl.max_horizontal("timestamp", "_l").alias("_f"))
    )


def exposure_frame(
    ds: Dataset, train: pl.DataFrame, valid: pl.DataFrame, *, future_items: int
) -> pl.DataFrame:
    """The exposure of a run that trained on ``train`` and picked its step on ``valid``.

    ``future_items`` is how far past each training prompt the run looked: 0 when only the
    history reached prompts and rewards (the coverage reward); 1 when the target did (a
    next-item reward, RLPF, the judge, the embedder's (prompt, target) pairs); ``k`` when
    the target and the ``k - 1`` later training items were positives.
    """
    seen = _history_until(ds, train)
    if future_items > 0:  # joined on example_id: polars does not promise a join's row order
        seen = (
            seen.join(_future_until(ds, seen, future_items), on="example_id")
            .with_columns(_h=pl.col("_f"))
            .drop("_f")
        )
    parts = [
        seen.drop_nulls("_h").select("user_id", pl.lit("train").alias("role"), "_h"),
        # a validation example's score used its target, its prompt everything before it
        valid.select("user_id", pl.lit("selection").alias("role"), pl.col("timestamp").alias("_h")),
    ]
    return (
        pl.concat(parts)
        .group_by("user_id", "role")
        .agg(pl.col("_h").max().cast(pl.Int64).alias("seen_until"))
        .sort("user_id", "role")
    )


def write_exposure(run_dir: str | Path, frame: pl.DataFrame) -> Path:
    path = Path(run_dir) / EXPOSURE_FILE
    tmp = path.with_name(path.name + ".tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)  # readers see the old record or the new one, never half
    return path


def exposed_examples(frame: pl.DataFrame, examples: pl.DataFrame) -> dict[str, pl.Series]:
    """Per role, the ``example_id``s whose target (or a later item) reached the run."""
    out = {}
    for role in ROLES:
        bound = frame.filter(pl.col("role") == role).select("user_id", "seen_until")
        hit = examples.join(bound, on="user_id").filter(pl.col("seen_until") >= pl.col("timestamp"))
        out[role] = hit["example_id"].sort()
    return out


def read_exposure(run_dir: str | Path) -> pl.DataFrame | None:
    """A run's exposure record, or None for a run (or a path) without one."""
    path = Path(run_dir) / EXPOSURE_FILE
    return pl.read_parquet(path) if path.is_file() else None


def run_of_adapter(adapter: str | Path) -> Path | None:
    """The run folder holding an exposure record for an adapter given as the run, its
    ``adapter``/``best_adapter`` folder or a ``checkpoints/checkpoint-N`` folder."""
    path = Path(adapter)
    for cand in (path, path.parent, path.parent.parent):
        if (cand / EXPOSURE_FILE).is_file():
            return cand
    return None


def adapter_run(model_id: str) -> Path | None:
    """The run of the adapter a generator's ``model_id`` names (``base+adapter:PATH#hash``)."""
    if "+adapter:" not in model_id:
        return None
    return run_of_adapter(model_id.split("+adapter:", 1)[1].rsplit("#", 1)[0])


def check_exposure(adapter: str | Path, examples: pl.DataFrame, *, allow: bool = False) -> str:
    """Refuse examples an adapter's run trained on; a note on those that picked its step.

    Returns the note ("" when nothing was exposed, or the run predates exposure records).
    """
    run_dir = run_of_adapter(adapter)
    record = read_exposure(run_dir) if run_dir is not None else None
    if record is None:
        return ""
    hits = exposed_examples(record, examples)
    n_train, n_sel = len(hits["train"]), len(hits["selection"])
    if n_train and not allow:
        raise UserError(
            f"{n_train} of {examples.height} examples have a target (or a later item) that "
            f"reached the training of {run_dir} (a prompt or a reward, {EXPOSURE_FILE}): "
            "their scores would be leaked. Profile a user-disjoint or later split, or pass "
            "--allow-exposed to profile them anyway (not for evaluation)."
        )
    notes = []
    if n_train:
        notes.append(f"{n_train} examples were seen in training (--allow-exposed)")
    if n_sel:
        notes.append(
            f"{n_sel} of {examples.height} examples' targets were used to pick the adapter's "
            "step (validation): their scores are slightly optimistic"
        )
    return "; ".join(notes)
