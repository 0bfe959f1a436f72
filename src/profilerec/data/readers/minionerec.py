"""MiniOneRec benchmark splits (``data/Amazon/`` of AkaliKong/MiniOneRec): the split is given.

Layout (any category name)::

    Amazon/train/<Cat>_5_<period>.csv   (optional: often not distributed)
    Amazon/valid/<Cat>_5_<period>.csv
    Amazon/test/<Cat>_5_<period>.csv
    Amazon/index/<Cat>.item.json        {"<item_id>": {title, description, brand, categories}}

Each CSV row is one prediction example: ``user_id``, ``history_item_id`` (a Python-literal
list of at most 10 integer ids, oldest first) and the target ``item_id``. Upstream sorted
every row by time and cut them 8:1:1 globally, so a user's rows in a file are consecutive
interactions, and a row's history is the previous window of the user's sequence.

What ``prepare`` gets from here:

- **examples**: every valid and test row exactly as given (its history, its target, its
  split), plus training examples: the train file's rows when it exists, otherwise examples
  derived from the interactions the files reveal before each user's first valid/test row
  (sliding windows of the same length, a warning says so).
- **interactions**: each user's sequence rebuilt from their rows (the first row's history,
  then every target in order), duplicates collapsed to the earliest. The files carry no
  timestamps, so they are *ordinal*: row ``g`` of the concatenated files gets
  ``BASE_MS + g * STEP_MS`` and the items of a user's first window just before ``BASE_MS``.
  Only the order means anything; it is the order upstream split by.
- **items**: every record of ``item.json`` (the full catalogue the published figures rank).
"""

from __future__ import annotations

import ast
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from profilerec.data.io import SkipReport, read_bytes
from profilerec.data.readers.base import (
    RawData,
    ReadOptions,
    interactions_frame,
    items_frame,
    polars_schema,
)
from profilerec.data.schema import EXAMPLE_COLUMNS, EXAMPLES_SCHEMA
from profilerec.errors import DataError, UserError

#: Ordinal timestamps (ms): 2017-07-14, one second per row. Only their order is meaningful.
BASE_MS = 1_500_000_000_000
STEP_MS = 1_000
REQUIRED = ("user_id", "history_item_id", "item_id")
SPLIT_DIRS = ("train", "valid", "test")
_QUOTED_LIST = re.compile(r"^\[\s*['\"](.*)['\"]\s*\]$", re.DOTALL)
_SEPARATOR = re.compile(r"['\"], ['\"]")


@dataclass
class Row:
    split: str
    user: str
    history: list[str]
    target: str
    where: tuple[Path, int]


def read(source: Path, options: ReadOptions) -> RawData:
    if options.columns:
        raise UserError("--column applies to csv, parquet and recbole sources, not minionerec")
    report = SkipReport(lenient=options.lenient)
    files, item_path = locate(source)
    items = read_item_json(item_path, report)
    known = set(items["item_id"].to_list())
    rows: list[Row] = []
    for split, path in files.items():
        rows.extend(_read_rows(path, split, known, report))
    if not any(r.split == "test" for r in rows):
        raise DataError(files["test"], "no test rows were read")
    inter, examples, notes, warnings = build(rows, derive_train="train" not in files)
    notes["category_files"] = {split: path.name for split, path in files.items()}
    sources = [*files.values(), item_path]
    return RawData(inter, items, sources, report, examples=examples, notes=notes, warnings=warnings)


def locate(source: Path) -> tuple[dict[str, Path], Path]:
    """The split CSVs (train only when present) and the item file of one category.

    ``source`` is the folder holding ``Amazon/``, the ``Amazon/`` folder itself, or one
    of the split CSVs (which picks the category when a folder holds several).
    """
    if source.is_file():
        root, stem = source.parent.parent, source.stem
    else:
        root = source / "Amazon" if (source / "Amazon").is_dir() else source
        tests = sorted(p.stem for p in (root / "test").glob("*.csv"))
        if not tests:
            raise UserError(
                f"{source}: no MiniOneRec split here (looked for Amazon/test/*.csv and test/*.csv)"
            )
        if len(tests) > 1:
            raise UserError(
                f"{source}: several categories ({', '.join(tests)}); pass one test CSV "
                "(e.g. Amazon/test/NAME.csv) as SOURCE"
            )
        stem = tests[0]
    files = {split: root / split / f"{stem}.csv" for split in SPLIT_DIRS}
    for split in ("valid", "test"):
        if not files[split].is_file():
            raise UserError(f"{files[split]}: missing (a MiniOneRec split needs valid and test)")
    if not files["train"].is_file():
        del files["train"]
    category = stem.split("_5_")[0]
    candidates = [root / "index" / f"{category}.item.json", root / "index" / f"{stem}.item.json"]
    item_path = next((p for p in candidates if p.is_file()), None)
    if item_path is None:
        raise UserError(f"{candidates[0]}: missing (item titles and descriptions of the split)")
    return files, item_path


def read_item_json(path: Path, report: SkipReport) -> pl.DataFrame:
    """``{"<id>": {title, description, brand, categories}}`` into canonical items.

    ``description`` (and sometimes ``categories``) is a Python-literal list written as a
    string (``"['first', 'second']"``); it becomes the joined text / the list.
    """
    data = load_json_object(path, '{"<item_id>": {...}}')
    rows = []
    for item_id, record in data.items():
        if not isinstance(record, dict):
            report.problem(path, f"item {item_id}: expected an object")
            continue
        rows.append(
            {
                "item_id": str(item_id),
                "title": record.get("title"),
                "description": _literal_list(record.get("description"), path, item_id, report),
                "categories": _literal_list(record.get("categories"), path, item_id, report),
                "store": record.get("brand"),
            }
        )
    return items_frame(rows).sort("item_id")


def load_json_object(path: Path, shape: str) -> dict[str, Any]:
    """A whole-file JSON object (not JSON lines), non-empty, or a one-line DataError."""
    try:
        data = orjson.loads(read_bytes(path))
    except orjson.JSONDecodeError as exc:
        raise DataError(path, f"malformed JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not data:
        raise DataError(path, f"expected a non-empty JSON object {shape}")
    return data


def _literal_list(value: Any, path: Path, item_id: str, report: SkipReport) -> Any:
    """A string holding a Python-literal list becomes the list; other values pass through."""
    if not isinstance(value, str) or not value.lstrip().startswith("["):
        return value
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        # Upstream joined some lists by hand ("['a', 'it's b']", '["5/16" x 25\' hose"]'):
        # a quote inside a part breaks the literal but not the quote-comma-quote separators.
        quoted = _QUOTED_LIST.match(value.strip())
        if quoted:
            return _SEPARATOR.split(quoted.group(1))
        report.problem(path, f"item {item_id}: malformed Python-literal list {value[:40]!r}")
        return value
    return [str(v) for v in parsed] if isinstance(parsed, list | tuple) else value


def parse_id_list(text: str) -> list[int]:
    """``"[3466, 2697]"`` -> ``[3466, 2697]``; JSON first (fast), then a Python literal."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise ValueError(f"malformed list {text[:40]!r}") from None
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(f"expected a list of integer ids, got {text[:40]!r}")
    return list(value)


def _read_rows(path: Path, split: str, known: set[str], report: SkipReport) -> list[Row]:
    try:
        text = read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not valid UTF-8 (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(path, f"missing column(s) {', '.join(missing)} (header line)", 1)
    rows: list[Row] = []
    for record in reader:
        line = reader.line_num
        user = (record.get("user_id") or "").strip()
        if not user:
            report.problem(path, "empty user_id", line)
            continue
        try:
            history = parse_id_list(record.get("history_item_id") or "")
            target = int((record.get("item_id") or "").strip())
        except ValueError as exc:
            report.problem(path, f"history_item_id/item_id: {exc}", line)
            continue
        ids = [str(i) for i in history]
        absent = [i for i in [*ids, str(target)] if i not in known]
        if absent:
            raise DataError(path, f"item id {absent[0]} is not in the item file", line)
        rows.append(Row(split, user, ids, str(target), (path, line)))
    if not rows:
        raise DataError(path, "no rows were read")
    return rows


def build(
    rows: list[Row], *, derive_train: bool
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any], list[str]]:
    """Interactions, examples, manifest notes and warnings from rows in file order."""
    seqs: dict[str, list[tuple[str, int]]] = {}
    prefix: dict[str, int] = {}  # per user: how many sequence items precede their first row
    ex_rows: list[dict[str, Any]] = []
    mismatched = 0
    for g, row in enumerate(rows):
        seq = seqs.get(row.user)
        if seq is None:
            n = len(row.history)
            seq = [(item, BASE_MS - (n - j) * STEP_MS) for j, item in enumerate(row.history)]
            seqs[row.user], prefix[row.user] = seq, n
        elif [item for item, _ in seq[len(seq) - len(row.history) :]] != row.history:
            mismatched += 1  # a window that does not continue the user's rows
        t = BASE_MS + g * STEP_MS
        ex_rows.append(
            {
                "user_id": row.user,
                "item_id": row.target,
                "timestamp": t,
                "position": len(seq),
                "history": row.history,
                "history_len": len(seq),
                "split": row.split,
            }
        )
        seq.append((row.target, t))
    window = max((len(r.history) for r in rows), default=0)
    derived = 0
    if derive_train:
        for user, seq in seqs.items():
            for i in range(1, prefix[user]):
                ex_rows.append(
                    {
                        "user_id": user,
                        "item_id": seq[i][0],
                        "timestamp": seq[i][1],
                        "position": i,
                        "history": [item for item, _ in seq[max(0, i - window) : i]],
                        "history_len": i,
                        "split": "train",
                    }
                )
                derived += 1
    examples = (
        pl.DataFrame(ex_rows, schema=polars_schema(EXAMPLES_SCHEMA.remove(0)))
        .sort(["user_id", "position"])
        .with_row_index("example_id")
        .with_columns(pl.col("example_id").cast(pl.Int64))
        .select(EXAMPLE_COLUMNS)
    )
    users, items, times = [], [], []
    for user, seq in seqs.items():
        seen: set[str] = set()
        for item, t in seq:
            if item not in seen:  # a repeat keeps its earliest time (duplicate collapse)
                seen.add(item)
                users.append(user)
                items.append(item)
                times.append(t)
    inter = interactions_frame({"user_id": users, "item_id": items, "timestamp": times}).sort(
        ["user_id", "timestamp"]
    )
    before = sum(prefix.values())
    n_sequence = sum(len(seq) for seq in seqs.values())
    notes: dict[str, Any] = {
        "split": "given",
        "history_window": window,
        "timestamps": "ordinal (row order of the concatenated split files; no real times)",
        "train_source": "derived" if derive_train else "train file",
        "pairs_before_first_row": before,
        "sequence_items": n_sequence,
        "derived_train_examples": derived,
        "windows_not_continuing": mismatched,
    }
    warnings = []
    if derive_train:
        warnings.append(
            f"no train file: training interactions are the {before} items of users' histories "
            f"before their first valid/test row, and {derived} training examples are derived "
            "from them; models see less than upstream's 8/10 train period"
        )
    if mismatched:
        warnings.append(
            f"{mismatched} rows' histories do not continue the same user's earlier rows "
            "(files out of time order?); their given histories are kept"
        )
    return inter, examples, notes, warnings
