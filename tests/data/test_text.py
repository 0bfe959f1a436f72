"""Item and history rendering."""

from __future__ import annotations

from profilerec.data.text import HistoryEntry, render_history, render_item


def test_title_first_then_fields_within_budget() -> None:
    item = {
        "title": "Rose Face Oil",
        "store": "Glow",
        "categories": ["Beauty", "Skin"],
        "description": "x " * 400,
    }
    text = render_item(item, budget=80)
    assert text.startswith("Rose Face Oil; Store: Glow; Categories: Beauty, Skin")
    assert len(text) <= 80
    assert render_item(item, budget=13) == "Rose Face Oil"


def test_details_json_rendered_as_pairs() -> None:
    text = render_item({"title": "T", "details": '{"Brand": "B", "Scent": "Rose"}'}, budget=200)
    assert text == "T; Details: Brand: B, Scent: Rose"


def test_token_counter_budget() -> None:
    words = lambda s: len(s.split())  # noqa: E731
    text = render_item({"title": "a b c", "description": "d e f g h i j"}, budget=6, count=words)
    assert words(text) <= 6 and text.startswith("a b c")


def test_history_lists_ratings_and_snippets_last_n() -> None:
    entries = [HistoryEntry(f"Item {k}", 5.0 - k, "Nice", "really " * 50) for k in range(4)]
    text = render_history(entries, max_items=2, snippet_chars=30)
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith('1. Item 2 (rated 3/5): "Nice - really')
    assert len(lines[0]) < 80
    assert "Item 0" not in text
    assert render_history(entries[:1], with_reviews=False) == "1. Item 0 (rated 5/5)"
