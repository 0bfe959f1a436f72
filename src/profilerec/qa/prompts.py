"""QA prompts: one context (none, the raw history, or a profile) plus one question.

Contexts are built from an example's ``history`` only (what precedes the target), with the
very rendering the profile prompts use (``profilerec.profile.prompts.history_texts``), so
"history" shows the reader exactly what a profiler saw. The target appears only as the
item a question asks about (rating, review) and never with its rating or review.
"""

from __future__ import annotations

import polars as pl

from profilerec.data.dataset import Dataset
from profilerec.data.text import _cut
from profilerec.llm.base import Messages
from profilerec.profile.prompts import history_texts
from profilerec.qa.config import QAConfig

SYSTEM = "You answer questions about a shopper briefly."


def profile_context(profile: str, chars: int) -> str:
    return "Profile of the customer:\n" + _cut(" ".join(profile.split()), chars, len)


def build_contexts(
    ds: Dataset,
    examples: pl.DataFrame,
    profiles: dict[str, list[str]],
    config: QAConfig,
) -> dict[str, list[str]]:
    """Context name -> one context text per example ("" for none)."""
    hist = history_texts(ds, examples, config.history)
    contexts = {
        "none": [""] * examples.height,
        "history": [f"The customer's past purchases (oldest first):\n{h}" for h in hist],
    }
    for name, texts in profiles.items():
        contexts[name] = [profile_context(p, config.profile_chars) for p in texts]
    return contexts


def item_title(titles: dict[str, str], item_id: str, chars: int) -> str:
    return _cut(" ".join((titles.get(item_id) or item_id).split()), chars, len)


def ask(context: str, question: str) -> Messages:
    body = f"{context}\n\n{question}" if context else question
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": body}]


def rating_question(title: str) -> str:
    return (
        f"Product: {title}\n"
        "How would this customer rate this product from 1 to 5 stars? Answer with one digit."
    )


def choice_question() -> str:
    return "Name the product this customer buys next."


def review_question(title: str) -> str:
    return f"Product: {title}\nWrite the short title of this customer's review of this product."


def questions(
    task: str, examples: pl.DataFrame, titles: dict[str, str], config: QAConfig
) -> list[str]:
    """The question of ``task`` for every example; only rating and review name the target."""
    if task == "choice":  # the options are scored as answers, never listed in the prompt
        return [choice_question()] * examples.height
    make = rating_question if task == "rating" else review_question
    return [make(item_title(titles, t, config.item_chars)) for t in examples["item_id"]]


def task_prompts(contexts: list[str], task_questions: list[str]) -> list[Messages]:
    """One prompt per example: its context (for one context name) and its question."""
    return [ask(c, q) for c, q in zip(contexts, task_questions, strict=True)]
