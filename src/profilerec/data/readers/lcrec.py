"""The LC-Rec / TIGER layout many generative-recommendation repositories ship.

A folder (or the ``.inter.json`` file itself) holding::

    <Cat>.inter.json   {"<user>": [item_id, item_id, ...]}   each user's items, oldest first
    <Cat>.item.json    {"<item_id>": {title, description, brand?, categories?}}

The sequences carry no timestamps, so they are *ordinal*: the item at position ``p`` of a
user's list gets ``BASE_MS + p * STEP_MS``. Only the order within a user is meaningful,
which is what these repositories' leave-last-out split (test = last item, valid = the one
before) uses: prepare it with the default ``--split leave_last_out``. The files are
usually 5-core already, so ``--k-core 5`` leaves them as they are (``--k-core 0`` to be sure).
"""

from __future__ import annotations

from pathlib import Path

from profilerec.data.io import SkipReport
from profilerec.data.readers.base import RawData, ReadOptions, find_file, interactions_frame
from profilerec.data.readers.minionerec import (
    BASE_MS,
    STEP_MS,
    load_json_object,
    read_item_json,
)
from profilerec.errors import DataError, UserError


def read(source: Path, options: ReadOptions) -> RawData:
    if options.columns:
        raise UserError("--column applies to csv, parquet and recbole sources, not lcrec")
    report = SkipReport(lenient=options.lenient)
    inter_path = (
        find_file(source, ["*.inter.json"], "interactions (.inter.json)", "lcrec")
        if source.is_dir()
        else source
    )
    if not inter_path.name.endswith(".inter.json"):
        raise UserError(f"{inter_path}: expected a <Category>.inter.json file or its folder")
    item_path = inter_path.with_name(inter_path.name.removesuffix(".inter.json") + ".item.json")
    if not item_path.is_file():
        raise UserError(f"{item_path}: missing (the item titles of {inter_path.name})")
    items = read_item_json(item_path, report)
    known = set(items["item_id"].to_list())
    data = load_json_object(inter_path, '{"<user>": [item ids]}')
    users, item_ids, times = [], [], []
    for user, seq in data.items():
        if not isinstance(seq, list) or not all(
            isinstance(i, int | str) and not isinstance(i, bool) for i in seq
        ):
            report.problem(inter_path, f"user {user}: expected a list of item ids")
            continue
        for position, item in enumerate(seq):
            if str(item) not in known:
                raise DataError(
                    inter_path, f"user {user}: item id {item} is not in {item_path.name}"
                )
            users.append(str(user))
            item_ids.append(str(item))
            times.append(BASE_MS + position * STEP_MS)
    inter = interactions_frame({"user_id": users, "item_id": item_ids, "timestamp": times})
    return RawData(inter, items, [inter_path, item_path], report)
