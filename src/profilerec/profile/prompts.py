"""Build each example's prompt from its history only.

This is the one place where interaction data becomes LLM input, so the leakage
rule lives here: only ``history`` items (strictly before the target) are read.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.data.text import render_history
from profilerec.errors import UserError
from profilerec.llm.base import Messages
from profilerec.llm.prompts import PromptTemplate


@dataclass(frozen=True)
class HistoryFormat:
    """How histories are shown in prompts."""

    #: Most recent history items shown.
    max_items: int = 10
    #: Characters of each item title.
    item_chars: int = 60
    #: Characters of each review snippet (0 = no reviews). On a CPU, prompt length
    #: (prefill) dominates generation cost: 10 x (60 + 40) characters keeps a prompt
    #: near 250 SmolLM2 tokens, so the 253-user demo profiles in a few minutes.
    snippet_chars: int = 40


def history_texts(ds: Dataset, examples: pl.DataFrame, fmt: HistoryFormat) -> list[str]:
    """The rendered history of every example, in row order."""
    entries = ds.history_entries(examples)
    return [
        render_history(
            e,
            max_items=fmt.max_items,
            item_chars=fmt.item_chars,
            snippet_chars=fmt.snippet_chars,
            with_reviews=fmt.snippet_chars > 0,
        )
        for e in entries
    ]


def build_prompts(
    ds: Dataset, examples: pl.DataFrame, template: PromptTemplate, fmt: HistoryFormat
) -> list[Messages]:
    return [template.render(history=h) for h in history_texts(ds, examples, fmt)]


def check_profile_template(template: PromptTemplate) -> None:
    """A profile template names ``{history}`` and nothing else, and renders: one without it
    gave every user the same prompt; a bad field failed only after the model had loaded."""
    if "history" not in template.fields:
        raise UserError(
            f"prompt template {template.name} has no {{history}} placeholder: every user "
            "would get the same prompt"
        )
    extra = sorted(template.fields - {"history"})
    if extra:
        raise UserError(
            f"prompt template {template.name}: unknown placeholder(s) {', '.join(extra)}; "
            "a profile template fills {history} only (write literal braces as {{ }})"
        )
    try:
        template.render(history="x")
    except (ValueError, IndexError, KeyError, AttributeError) as exc:
        raise UserError(f"prompt template {template.name}: {exc}") from None
