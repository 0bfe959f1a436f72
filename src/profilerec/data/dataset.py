"""Load a prepared dataset folder (the output of ``profilerec prepare``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from profilerec.data.schema import (
    EXAMPLES_FILE,
    INTERACTIONS_FILE,
    ITEMS_FILE,
    MANIFEST_FILE,
)
from profilerec.data.text import HistoryEntry, render_item
from profilerec.errors import DataError, UserError


@dataclass
class Dataset:
    """A prepared dataset: items, interactions, examples and the manifest.

    Frames are read lazily on first access so that a stage touching only
    ``examples`` never pays for the review texts.
    """

    root: Path
    _cache: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, root: str | Path) -> Dataset:
        root = Path(root)
        missing = [
            name
            for name in (ITEMS_FILE, INTERACTIONS_FILE, EXAMPLES_FILE, MANIFEST_FILE)
            if not (root / name).is_file()
        ]
        if missing:
            raise UserError(
                f"{root} is not a prepared dataset (missing {', '.join(missing)}); "
                "run `profilerec prepare` first"
            )
        dataset = cls(root=root)
        dataset.manifest  # noqa: B018  (cheap: a broken manifest fails here, not after a stage ran)
        return dataset

    def _read(self, name: str) -> pl.DataFrame:
        if name not in self._cache:
            try:
                self._cache[name] = pl.read_parquet(self.root / name)
            except pl.exceptions.PolarsError as exc:  # corrupt or truncated: say which file
                raise DataError(self.root / name, f"unreadable parquet ({exc})") from None
        return self._cache[name]

    @property
    def items(self) -> pl.DataFrame:
        return self._read(ITEMS_FILE)

    @property
    def interactions(self) -> pl.DataFrame:
        return self._read(INTERACTIONS_FILE)

    @property
    def examples(self) -> pl.DataFrame:
        return self._read(EXAMPLES_FILE)

    @cached_property
    def manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(
                path, f"malformed manifest ({exc}); prepare the dataset again"
            ) from None
        if not isinstance(data, dict):
            raise DataError(
                path, "malformed manifest (not a JSON object); prepare the dataset again"
            )
        return data

    def split(self, name: str) -> pl.DataFrame:
        """Examples of one split (``train``, ``valid`` or ``test``)."""
        if name not in ("train", "valid", "test"):
            raise UserError(f"unknown split {name!r}; choose train, valid or test")
        return self.examples.filter(pl.col("split") == name)

    @cached_property
    def item_ids(self) -> list[str]:
        """Catalogue order used by every stage: row order of ``items.parquet``."""
        return list(self.items["item_id"])

    @cached_property
    def item_index(self) -> dict[str, int]:
        return {item: i for i, item in enumerate(self.item_ids)}

    def train_interactions(self) -> pl.DataFrame:
        """Interactions a model may learn from: for each user, those strictly before
        the user's earliest validation or test target (all of them for users with none).

        Popularity counts, SASRec sequences, neighbours and item profiles all start
        here, so no evaluation target (or anything after it) reaches training.
        """
        cut = (
            self.examples.filter(pl.col("split") != "train")
            .group_by("user_id")
            .agg(pl.col("timestamp").min().alias("_cut"))
        )
        return (
            self.interactions.join(cut, on="user_id", how="left")
            .filter(pl.col("_cut").is_null() | (pl.col("timestamp") < pl.col("_cut")))
            .drop("_cut")
        )

    def with_valid_as_train(self) -> Dataset:
        """This dataset with its validation examples relabelled ``train``: what a model
        refitted for the test split may learn from (``evaluate --refit``), i.e. every
        interaction before the user's first test target, validation targets included."""
        view = Dataset(root=self.root)
        view._cache = dict(self._cache)
        view._cache[EXAMPLES_FILE] = self.examples.with_columns(
            pl.when(pl.col("split") == "valid")
            .then(pl.lit("train"))
            .otherwise(pl.col("split"))
            .alias("split")
        )
        return view

    def seen_before(self, examples: pl.DataFrame) -> list[list[int]]:
        """Catalogue indices of every item each example's user had before its target.

        Unlike ``history`` this is never truncated, so retrieval can mask the
        whole past even when prompts only show the last N items.
        """
        inter = self.interactions.select("user_id", "item_id", "timestamp")
        joined = (
            examples.select("example_id", "user_id", pl.col("timestamp").alias("t"))
            .join(inter, on="user_id", how="left")
            .filter(pl.col("timestamp") < pl.col("t"))
            .group_by("example_id")
            .agg(pl.col("item_id"))
        )
        by_id = dict(zip(joined["example_id"].to_list(), joined["item_id"].to_list(), strict=True))
        index = self.item_index
        return [
            [index[i] for i in by_id.get(eid) or [] if i in index] for eid in examples["example_id"]
        ]

    def item_texts(self, budget: int = 400) -> list[str]:
        """Rendered text of every catalogue item, in catalogue order (for embeddings)."""
        return [render_item(row, budget=budget) for row in self.items.iter_rows(named=True)]

    def history_entries(self, examples: pl.DataFrame) -> list[list[HistoryEntry]]:
        """Each example's ``history`` with titles, ratings and the user's own review text.

        Looked up by (user, item) — unique after duplicate collapse — so the review
        shown is the one written at that earlier time, never a later one.
        """
        exploded = (
            examples.select("example_id", "user_id", "history")
            .with_columns(pl.int_range(pl.len()).alias("_order"))
            .explode("history")
            .drop_nulls("history")
            .with_columns(pl.int_range(pl.len()).alias("_k"))
            .join(
                self.interactions.select(
                    "user_id",
                    pl.col("item_id").alias("history"),
                    "rating",
                    "review_title",
                    "review_text",
                ),
                on=["user_id", "history"],
                how="left",
            )
            .join(
                self.items.select(pl.col("item_id").alias("history"), "title"),
                on="history",
                how="left",
            )
            .sort("_k")
        )
        grouped: dict[int, list[HistoryEntry]] = {}
        for row in exploded.iter_rows(named=True):
            grouped.setdefault(row["example_id"], []).append(
                HistoryEntry(
                    title=row["title"] or row["history"],
                    rating=row["rating"],
                    review_title=row["review_title"] or "",
                    review_text=row["review_text"] or "",
                )
            )
        return [grouped.get(eid, []) for eid in examples["example_id"]]
