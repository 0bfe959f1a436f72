"""Profile quality, measured without a model: what a reader of the profiles would notice.

Per profile set (``profile_quality``), over the evaluated examples:

- ``mean_words`` / ``mean_chars``: length;
- ``cut_mid_sentence``: share whose text does not end at a sentence end (``.``, ``!``, ``?``,
  optionally followed by a closing quote or bracket), i.e. stopped by the token limit;
- ``sameness``: mean cosine between two different users' profile embeddings (template
  collapse shows as a rise; the same figure BLUE's validation logs);
- ``invented_personal``: share that mention personal data found nowhere in the user's
  history (titles and own reviews): a person's name, a date, an email address or an age;
  ``invented_by_kind`` splits it by kind. Patterns, not a model: names are caught after a
  label (``Name: ...``, ``The Customer: ...``), a title (``Dr. ...``), ``named ...``, ``my
  name is ...``, or as a common first name followed by a capitalised word;
- ``grounding``: mean share of a profile's product words (its words that occur in the
  catalogue's item texts, less stop words and words about profiles in general) that also
  occur in the user's history text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

_END = re.compile(r"[.!?][\"'”’)\]]*$")
_WORD = re.compile(r"[a-z][a-z'-]{2,}")
_FIRST_NAMES = (
    "Alex|Alice|Amanda|Amy|Anna|Ashley|Ben|Chris|Daniel|David|Emily|Emma|Grace|Hannah|Jack|"
    "Jake|James|Jane|Jennifer|Jessica|John|Kate|Laura|Lisa|Lucy|Maria|Mark|Mary|Michael|Mike|"
    "Olivia|Rachel|Sam|Samantha|Sarah|Sophia|Tom|Lily|Mia|Chloe|Ethan|Liam|Noah|Ava|Zoe"
)
_LABELS = r"(?:Customer|Name|Product|Products|Brand|Sale|Sales|Price|Features?)\b"
_CAP = rf"(?!{_LABELS})[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?"
PATTERNS: dict[str, re.Pattern[str]] = {
    "name": re.compile(
        rf"(?:\b[Nn]ame[ \t]*(?:is|:)[ \t]*|\bThe Customer[ \t]*:[ \t]*|\bnamed[ \t]+|"
        rf"\b(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+)(?P<v>{_CAP})|\b(?P<w>(?:{_FIRST_NAMES})\s+[A-Z][a-z]+)\b"
    ),
    "date": re.compile(
        r"\b(?P<v>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}"
        r"(?:st|nd|rd|th)?(?:,?\s+\d{4})?|\d{1,2}\s+(?:January|February|March|April|June|July|"
        r"August|September|October|November|December)(?:\s+\d{4})?|\d{4}-\d{2}-\d{2}|"
        r"\d{1,2}/\d{1,2}/\d{2,4}|(?:19[5-9]\d|20[0-3]\d))\b"
    ),
    "email": re.compile(r"(?P<v>\b[\w.+-]+@[\w-]+\.[\w.-]+\b)"),
    "age": re.compile(r"\b(?P<v>\d{1,2}[- ]years?[- ]old|aged?\s+\d{1,2})\b", re.IGNORECASE),
}
#: Words that are never product words: function words and words about profiles in general.
_STOP_TEXT = """the and for with that this they their them from have has had are was were will would
    can could should also into than then there these those which while who whom whose what
    when where why how all any both each few more most other some such only own same very
    just not but its our out over under about after before again between through during
    customer customers shopper shoppers user users profile likes like liked love loves loved
    enjoy enjoys prefer prefers preferred product products item items brand brands buy buys
    bought purchase purchased purchases want wants likely next new well based include includes
    including use uses used using one two three make makes made look looks looking good great
    best high quality review reviews reviewed"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def ends_mid_sentence(text: str) -> bool:
    """True when ``text`` does not end at a sentence end (or is empty)."""
    return not _END.search(text.rstrip())


def trim_to_sentence(text: str) -> str:
    """``text`` up to its last full sentence; unchanged when it ends at one or has none.

    A profile stopped by the token limit ends mid-sentence; dropping the unfinished tail
    keeps what the model finished. With no sentence end at all the text is kept whole
    (an empty profile would be worse than an unfinished one).
    """
    text = text.rstrip()
    if not ends_mid_sentence(text):
        return text
    ends = [m.end() for m in re.finditer(r"[.!?][\"'”’)\]]*(?=\s)", text)]
    return text[: ends[-1]].rstrip() if ends else text


def personal_details(profile: str, history_text: str) -> dict[str, list[str]]:
    """Personal data in ``profile`` that ``history_text`` does not contain, by kind."""
    history = history_text.lower()
    found: dict[str, list[str]] = {}
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(profile):
            value = match.group("v") or (match.groupdict().get("w") or "")
            if value and value.lower() not in history:
                found.setdefault(kind, []).append(value)
    return found


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - STOP_WORDS


def grounding(profile: str, history_text: str, vocabulary: set[str]) -> float | None:
    """Share of the profile's product words found in the history; None without any."""
    product = words(profile) & vocabulary
    if not product:
        return None
    return len(product & words(history_text)) / len(product)


def sameness(vecs: np.ndarray) -> float:
    """Mean cosine between two different users' profiles: template collapse shows as a rise.

    BLUE's validation figure (``methods/blue/validation.py`` imports it from here).
    """
    unit = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    n = len(unit)
    if n < 2:
        return float("nan")
    total = unit.sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))


def profile_quality(
    profiles: Sequence[str],
    histories: Sequence[str],
    item_texts: Iterable[str],
    vectors: np.ndarray | None = None,
) -> dict[str, Any]:
    """The ``profile_quality`` block of one profile set (see the module docstring).

    ``histories[i]``: the text of example i's whole history (titles and own reviews);
    ``vectors``: the profiles' embeddings, for ``sameness`` (None leaves it out).
    """
    if len(profiles) != len(histories):
        raise ValueError("one history text per profile")
    n = len(profiles)
    vocabulary = set().union(*(words(t) for t in item_texts))
    details = [personal_details(p, h) for p, h in zip(profiles, histories, strict=True)]
    grounded = [g for p, h in zip(profiles, histories, strict=True)
                if (g := grounding(p, h, vocabulary)) is not None]  # fmt: skip
    share = lambda hits: round(hits / n, 4) if n else float("nan")  # noqa: E731
    example = next((f"{k}: {v[0]}" for d in details for k, v in d.items()), None)
    out: dict[str, Any] = {
        "n": n,
        "mean_words": round(float(np.mean([len(p.split()) for p in profiles])), 2) if n else 0.0,
        "mean_chars": round(float(np.mean([len(p) for p in profiles])), 1) if n else 0.0,
        "cut_mid_sentence": share(sum(ends_mid_sentence(p) for p in profiles)),
        "invented_personal": share(sum(bool(d) for d in details)),
        "invented_by_kind": {kind: share(sum(kind in d for d in details)) for kind in PATTERNS},
        "invented_example": example,
        "grounding": round(float(np.mean(grounded)), 4) if grounded else None,
    }
    if vectors is not None:
        out["sameness"] = round(sameness(np.asarray(vectors, dtype=np.float64)), 4)
    return out
