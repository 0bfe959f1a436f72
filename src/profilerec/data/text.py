"""Rendering items and histories as text, shared by prompts and embeddings."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Optional token counter (e.g. ``lambda s: len(tokenizer.encode(s))``); characters otherwise.
Counter = Callable[[str], int]


@dataclass(frozen=True)
class HistoryEntry:
    """One past interaction as shown to the profiler."""

    title: str
    rating: float | None = None
    review_title: str = ""
    review_text: str = ""


def render_item(
    item: Mapping[str, Any],
    *,
    budget: int = 400,
    count: Counter = len,
    fields: Sequence[str] = ("store", "categories", "features", "description", "details"),
) -> str:
    """``title`` first, then each further field that still fits ``budget``.

    Budget is in characters unless ``count`` counts tokens. A field that does not
    fit whole is cut at a word boundary, so the text always uses the budget well.
    """
    title = str(item.get("title") or item.get("item_id") or "")
    parts = [_cut(title, budget, count)]
    used = count(parts[0])
    for name in fields:
        value = _field_text(item.get(name), name)
        if not value:
            continue
        piece = f"{name.capitalize()}: {value}"
        room = budget - used - count("; ")
        if room <= count(name) + 8:
            break
        piece = _cut(piece, room, count)
        parts.append(piece)
        used += count("; ") + count(piece)
    return "; ".join(p for p in parts if p)


def render_history(
    entries: Sequence[HistoryEntry],
    *,
    max_items: int = 20,
    item_chars: int = 120,
    snippet_chars: int = 120,
    with_reviews: bool = True,
) -> str:
    """A numbered list, oldest first, of the last ``max_items`` interactions."""
    shown = entries[-max_items:] if max_items else entries
    lines = []
    for i, e in enumerate(shown, start=1):
        line = f"{i}. {_cut(e.title, item_chars, len)}"
        if e.rating is not None:
            line += f" (rated {e.rating:g}/5)"
        if with_reviews and (e.review_title or e.review_text):
            review = " - ".join(x for x in (e.review_title, e.review_text) if x)
            line += f': "{_cut(" ".join(review.split()), snippet_chars, len)}"'
        lines.append(line)
    return "\n".join(lines)


def _field_text(value: Any, name: str) -> str:
    if value is None or value == "" or value == []:
        return ""
    if name == "details" and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value if v)
    return " ".join(str(value).split())


def _cut(text: str, budget: int, count: Counter) -> str:
    if count(text) <= budget:
        return text
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:  # binary search on words: token counters are slow
        mid = (lo + hi + 1) // 2
        if count(" ".join(words[:mid]) + "...") <= budget:
            lo = mid
        else:
            hi = mid - 1
    return (" ".join(words[:lo]) + "...") if lo else text[: max(budget - 3, 0)] + "..."
