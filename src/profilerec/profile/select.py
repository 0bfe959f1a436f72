"""The ``select`` stage: best-of-N profiles by history coverage.

Given several candidate profile sets of the same examples (the greedy profile and sampled
ones, each written by ``profile``), keep per example the candidate whose embedding best
retrieves the user's own most recent history items. The score needs nothing after the
example's target, so it is a legitimate test-time choice (unlike a reward on the next item).

Why: on the RFT candidates of the user-disjoint All_Beauty split, GRPO's next-item reward
differences within a prompt were mostly luck (``research/blue/reward_signal.py``), while the
candidate that best covered the user's last 5 history items ranked the next item higher than
the greedy profile did (research/notes/, issue 19). No library does this selection; it is a
few lines over the project's own reward and embedder.

Output: ``profiles.parquet`` in the ``profile`` stage's schema (so ``evaluate --profiles``
reads it), ``selection.parquet`` (example_id, candidate, set, coverage, chosen) and
``select_config.json`` (with ``unfilled``: examples whose every candidate was empty), the
folder written atomically. An empty candidate is chosen only when every candidate is empty.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from profilerec.atomic import atomic_folder, check_target
from profilerec.data.dataset import Dataset
from profilerec.embed.base import Embedder
from profilerec.errors import UserError
from profilerec.profile.checks import check_profile_frame, check_same_users
from profilerec.profile.stage import PROFILES_FILE, load_profiles
from profilerec.rewards import EmbeddingReward

SELECTION_FILE = "selection.parquet"
CONFIG_FILE = "select_config.json"
#: What a selection folder holds; anything else there blocks its replacement.
OWNED = frozenset({SELECTION_FILE, PROFILES_FILE, CONFIG_FILE})
SCORES = ("rank", "mrr", "ndcg", "margin")


@dataclass
class SelectConfig:
    """How candidates are scored; written next to the output as ``select_config.json``."""

    #: Most recent history items a profile should retrieve (the compact prompt shows 5).
    coverage_items: int = 5
    #: Embedding-reward form of the score: rank (mean percentile of the history items; the
    #: densest, and the form measured), mrr, ndcg or margin.
    score: str = "rank"
    #: Method name recorded with the chosen profiles (default: first set's name + "+best_of_N").
    method: str | None = None
    #: Splits to select for (empty = every example of the first set); each set must hold them.
    splits: tuple[str, ...] = ()
    #: Characters of item text embedded (as ``evaluate``).
    item_text_budget: int = 300

    def __post_init__(self) -> None:
        if self.coverage_items < 1:
            raise UserError("--coverage-items must be at least 1")
        if self.score not in SCORES:
            raise UserError(f"unknown score {self.score!r}; choose {', '.join(SCORES)}")


def coverage_scores(
    reward: EmbeddingReward, vecs: np.ndarray, histories: list[list[int]], n: int
) -> np.ndarray:
    """Per profile: the reward of its example's last ``n`` history items, ranked against the
    catalogue minus the rest of the history. ``histories`` are oldest first; an example with
    no history scores 0 (every candidate ties, so the first set's profile is kept)."""
    return reward.score_vectors(vecs, [h[-n:] for h in histories], [h[:-n] for h in histories])


def _candidates(dirs: list[Path], splits: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The first set (its rows become the output's) and all candidates, aligned."""
    if len(dirs) < 2:
        raise UserError("give at least two candidate profile sets (--candidates DIR, repeated)")
    sets = [load_profiles(d).sort("example_id") for d in dirs]
    for d, frame in zip(dirs, sets, strict=True):
        check_profile_frame(str(d), frame, str(d))  # columns, null texts, duplicate ids
        missing = [c for c in ("split", "method", "prompt") if c not in frame.columns]
        if missing:
            raise UserError(
                f"{d}: profiles lack column(s) {', '.join(missing)}; "
                "expected a set written by `profilerec profile`"
            )
    if splits:
        sets = [f.filter(pl.col("split").is_in(list(splits))) for f in sets]
    first = sets[0]
    if first.is_empty():
        raise UserError(f"{dirs[0]}: no profiles of split(s) {', '.join(splits)}")
    ids = set(first["example_id"])
    for d, frame in zip(dirs[1:], sets[1:], strict=True):
        missing = ids - set(frame["example_id"])
        if missing:
            raise UserError(
                f"{d}: no profile for {len(missing)} of the {len(ids)} examples of {dirs[0]}; "
                "profile the same split(s) in every candidate set"
            )
        prompts = first.join(frame.select("example_id", "prompt"), on="example_id")
        differ = prompts.filter(pl.col("prompt") != pl.col("prompt_right")).height
        if differ:
            raise UserError(
                f"{d}: {differ} examples were prompted differently from {dirs[0]}; candidates "
                "must share one prompt format (same template and history options)"
            )
    cand = pl.concat(
        [
            f.filter(pl.col("example_id").is_in(list(ids)))
            .select("example_id", pl.col("user_id").cast(pl.String), "profile")
            .with_columns(candidate=pl.lit(k, pl.Int32), set=pl.lit(str(d)))
            for k, (d, f) in enumerate(zip(dirs, sets, strict=True))
        ]
    ).sort("example_id", "candidate")
    return first, cand


def run_select(
    ds: Dataset,
    candidate_dirs: list[str | Path],
    out_dir: str | Path,
    config: SelectConfig,
    embedder: Embedder,
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``out_dir/profiles.parquet`` with the best-covering candidate per example;
    ``overwrite`` replaces an ``out_dir`` this command did not write (refused otherwise)."""
    dirs = [Path(d) for d in candidate_dirs]
    out = Path(out_dir)
    check_target(out, CONFIG_FILE, "selection", OWNED, overwrite)  # before anything is embedded
    first, cand = _candidates(dirs, config.splits)
    examples = ds.examples.filter(pl.col("example_id").is_in(first["example_id"].to_list()))
    if examples.height != first.height:
        raise UserError(f"{dirs[0]}: its profiles are of examples this dataset does not have")
    examples = examples.sort("example_id")
    for d in dirs:  # every set's rows are of this dataset's users
        check_same_users(str(d), examples, cand.filter(pl.col("set") == str(d)))
    index = ds.item_index
    # The prompt's own history (chronological), so "most recent" is what the profile saw.
    history = {
        eid: [index[i] for i in h if i in index]
        for eid, h in zip(examples["example_id"], examples["history"], strict=True)
    }
    item_vecs = embedder.embed(ds.item_texts(config.item_text_budget))
    reward = EmbeddingReward(embedder, item_vecs, variant=config.score, n_negatives=0)
    vecs = embedder.embed(cand["profile"].to_list())  # unit-normalised by the reward
    hists = [history[e] for e in cand["example_id"]]
    scores = coverage_scores(reward, vecs, hists, config.coverage_items)
    empty = cand["profile"].str.strip_chars().str.len_chars() == 0
    cand = cand.with_columns(coverage=pl.Series(scores), empty=empty)
    # A non-empty profile always beats an empty one (an empty text still embeds somewhere
    # and once won for 110 of 253 users); then highest coverage wins; ties go to the
    # earlier set (put the greedy profile first).
    best = (
        cand.sort(
            "example_id", "empty", "coverage", "candidate", descending=[False, False, True, False]
        )
        .group_by("example_id", maintain_order=True)
        .first()
        .select("example_id", "candidate", "empty", chosen_profile="profile")
    )
    unfilled = int(best["empty"].sum())
    selection = (
        cand.join(best.select("example_id", chosen_candidate="candidate"), on="example_id")
        .with_columns(chosen=pl.col("candidate") == pl.col("chosen_candidate"))
        .drop("chosen_candidate", "empty", "user_id")
    )
    method = config.method or f"{first['method'][0]}+best_of_{len(dirs)}"
    record = {**dataclasses.asdict(config), "candidates": [str(d) for d in dirs]}
    # examples whose every candidate is empty: kept empty, counted (the CLI says how many)
    record["unfilled"] = unfilled
    # Prompt, template and model are the sets' own (checked equal above); `generation`
    # records the selection, so the row says how its profile was chosen.
    profiles = (
        first.join(best, on="example_id")
        .with_columns(
            profile=pl.col("chosen_profile"),
            method=pl.lit(method),
            generation=pl.lit(json.dumps({"select": record})),
        )
        .drop("chosen_profile", "candidate", "empty")
        .sort("example_id")
    )
    # the whole folder at once; only a folder `select` wrote is replaced (write rule 2)
    with atomic_folder(out, CONFIG_FILE, "selection", OWNED) as tmp:
        selection.write_parquet(tmp / SELECTION_FILE)
        profiles.write_parquet(tmp / PROFILES_FILE)
        (tmp / CONFIG_FILE).write_text(json.dumps(record, indent=2))
    return out / PROFILES_FILE
