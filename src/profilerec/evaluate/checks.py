"""Checks that make ``evaluate`` refuse inputs that would silently report wrong numbers.

Each failure is a one-line UserError. They are cheap (no model), so the CLI runs them before it
loads the embedder and ``run_evaluate`` runs them again for library callers. A profile
set's own shape (``check_profile_frame``, ``check_same_users``) is checked in
``profile/checks.py``, below both ``evaluate`` and ``select``; they are importable here too.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from profilerec.errors import UserError
from profilerec.profile.checks import (  # the profile-set checks, shared with select
    check_profile_frame,
    check_same_users,
)


def method_names(methods: Iterable[str], profile_names: Iterable[str]) -> list[str]:
    """The rows ``evaluate`` will report, in order, refusing any name given twice."""
    names: list[str] = []
    for name in [*methods, *(n for p in profile_names for n in (p, f"history+{p}"))]:
        if name in names:
            raise UserError(
                f"two methods would be reported as {name!r}: name each profile set "
                "(--profiles NAME=DIR) differently from the others and from the baselines"
            )
        names.append(name)
    return names


def check_evaluate_inputs(
    examples: pl.DataFrame,
    profiles: dict[str, pl.DataFrame],
    methods: Iterable[str],
    known_methods: Iterable[str],
    reference: str | None,
) -> None:
    """Refuse name clashes, duplicate ids, profiles of other users, empty profiles, and an
    unknown ``reference``. ``known_methods``: every baseline the stage can run (reserved)."""
    reserved = set(known_methods)
    for name in profiles:
        if name in reserved or any(name == f"history+{m}" for m in reserved):
            raise UserError(
                f"profile set {name!r} is named like a baseline; "
                f"give it another name (--profiles OTHER=DIR)"
            )
    names = method_names(methods, profiles)
    if reference is not None and reference not in names:
        raise UserError(
            f"--reference {reference!r} is not evaluated; choose from {', '.join(names)}"
        )
    dup = examples["example_id"].is_duplicated()
    if dup.any():
        raise UserError(
            f"the dataset's examples repeat example_id {examples.filter(dup)['example_id'][0]}; "
            "prepare it again"
        )
    for name, frame in profiles.items():
        check_profile_frame(name, frame)
        _check_matches(name, examples, frame)
        _check_not_trained_on(name, examples, frame)


def check_profile_set(name: str, examples: pl.DataFrame, frame: pl.DataFrame, source: str) -> None:
    """evaluate's checks of one profile set against the examples it is used for, shared by
    ``qa``, ``select`` and ``serve``: columns, null texts, duplicate example ids, rows of
    other users (another dataset or split), every text empty."""
    check_profile_frame(name, frame, source)
    _check_matches(name, examples, frame)


def empty_profiles(examples: pl.DataFrame, frame: pl.DataFrame) -> int:
    """How many evaluated examples have an empty (or blank) profile text: each is ranked by
    the embedding of nothing. Not an error (a generator may write a few), but said."""
    texts = examples.select("example_id").join(frame, on="example_id", how="inner")["profile"]
    return int((texts.fill_null("").str.strip_chars().str.len_chars() == 0).sum())


def check_dataset_whole(root: object, items: pl.DataFrame, examples: pl.DataFrame) -> None:
    """The examples' targets and histories are items of this dataset: a folder mixing two
    datasets' files once failed with a KeyError deep inside ``evaluate``."""
    named = pl.concat([examples["item_id"], examples["history"].explode().drop_nulls()]).unique()
    unknown = named.filter(~named.is_in(items["item_id"].implode()))
    if unknown.len():
        raise UserError(
            f"{root}: {unknown.len()} items named by examples.parquet are not in items.parquet "
            f"(first {unknown[0]}); its files come from different datasets: prepare it again"
        )


def _check_not_trained_on(name: str, examples: pl.DataFrame, frame: pl.DataFrame) -> None:
    """Profiles written by an adapter whose run saw their targets (``profile
    --allow-exposed``) are leaked: refused, when the run's exposure record is on this disk."""
    from profilerec.profile.exposure import adapter_run, exposed_examples, read_exposure

    if "model_id" not in frame.columns:
        return
    for model_id in frame["model_id"].unique().drop_nulls():
        run = adapter_run(str(model_id))
        record = read_exposure(run) if run is not None else None
        if run is None or record is None:
            continue
        ids = frame.filter(pl.col("model_id") == model_id)["example_id"].implode()
        hits = exposed_examples(record, examples.filter(pl.col("example_id").is_in(ids)))
        if len(hits["train"]):
            raise UserError(
                f"profiles {name!r}: {len(hits['train'])} evaluated examples have a target that "
                f"reached the training of {run}, the run of the adapter that wrote them; "
                "their scores would be leaked"
            )


def _check_matches(name: str, examples: pl.DataFrame, frame: pl.DataFrame) -> None:
    """Profiles matched on example_id must belong to the same user, and say something."""
    joined = check_same_users(name, examples, frame)
    if (
        joined.height
        and joined["profile"].fill_null("").str.strip_chars().str.len_chars().max() == 0
    ):
        raise UserError(f"profiles {name!r}: every profile text is empty; nothing to evaluate")
