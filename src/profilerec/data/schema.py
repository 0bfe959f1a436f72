"""The canonical dataset: file names, column names and Arrow schemas.

Every stage reads and writes these files, so the schema lives in one place.
See docs/dataset.md for the human-readable version.
"""

from __future__ import annotations

import pyarrow as pa

ITEMS_FILE = "items.parquet"
INTERACTIONS_FILE = "interactions.parquet"
EXAMPLES_FILE = "examples.parquet"
MANIFEST_FILE = "manifest.json"

SPLITS = ("train", "valid", "test")

#: One row per item in the catalogue. Text fields are empty strings / empty lists
#: when the source has no such field; ``has_meta`` says whether any metadata was found.
ITEMS_SCHEMA = pa.schema(
    [
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("description", pa.string()),
        pa.field("features", pa.list_(pa.string())),
        pa.field("categories", pa.list_(pa.string())),
        pa.field("store", pa.string()),
        pa.field("price", pa.float64()),
        pa.field("details", pa.string()),  # JSON object as text, "" when absent
        pa.field("has_meta", pa.bool_(), nullable=False),
    ]
)

#: One row per (user, item) interaction after filtering, sorted by user then time.
#: ``timestamp`` is milliseconds since the Unix epoch whatever the source unit.
INTERACTIONS_SCHEMA = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("timestamp", pa.int64(), nullable=False),
        pa.field("rating", pa.float64()),
        pa.field("review_title", pa.string()),
        pa.field("review_text", pa.string()),
    ]
)

#: One row per prediction example. ``history`` holds the item ids the user
#: interacted with strictly before ``timestamp`` (oldest first), truncated to the
#: last ``max_history`` items; ``history_len`` is the untruncated count.
EXAMPLES_SCHEMA = pa.schema(
    [
        pa.field("example_id", pa.int64(), nullable=False),
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("timestamp", pa.int64(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("history", pa.list_(pa.string()), nullable=False),
        pa.field("history_len", pa.int32(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
    ]
)

INTERACTION_COLUMNS = tuple(INTERACTIONS_SCHEMA.names)
ITEM_COLUMNS = tuple(ITEMS_SCHEMA.names)
EXAMPLE_COLUMNS = tuple(EXAMPLES_SCHEMA.names)
