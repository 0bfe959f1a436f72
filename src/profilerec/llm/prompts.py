"""Prompt templates as plain files the user can override.

A template has ``### system`` / ``### user`` sections and ``{history}`` style
placeholders. The packaged defaults live in ``profilerec/llm/prompts/``; pass a
path to use your own.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from profilerec.errors import UserError
from profilerec.llm.base import Messages

SECTION = re.compile(r"^### (system|user|assistant)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PromptTemplate:
    """A parsed template: ordered (role, text) sections."""

    name: str
    sections: tuple[tuple[str, str], ...]

    @property
    def fields(self) -> set[str]:
        return {
            f for _, text in self.sections for _, f, _, _ in string.Formatter().parse(text) if f
        }

    def render(self, **values: str) -> Messages:
        missing = self.fields - values.keys()
        if missing:
            raise UserError(f"prompt {self.name}: no value for {', '.join(sorted(missing))}")
        return [{"role": role, "content": text.format(**values)} for role, text in self.sections]

    def render_text(self, **values: str) -> str:
        """All sections joined, for templates used as plain text (e.g. history-as-text)."""
        return "\n".join(m["content"] for m in self.render(**values))

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr(self.sections).encode()).hexdigest()[:16]


def load_template(name_or_path: str | Path) -> PromptTemplate:
    """A packaged template by name (``profile``, ``history_text``) or a template file."""
    path = Path(name_or_path)
    if path.suffix == ".txt" or path.exists():
        if not path.is_file():
            raise UserError(f"prompt template {path} not found")
        text, name = path.read_text(encoding="utf-8"), str(path)
    else:
        res = resources.files("profilerec.llm") / "prompts" / f"{name_or_path}.txt"
        if not res.is_file():
            raise UserError(f"unknown prompt template {name_or_path!r}")
        text, name = res.read_text(encoding="utf-8"), str(name_or_path)
    return parse_template(text, name)


def parse_template(text: str, name: str = "<template>") -> PromptTemplate:
    marks = list(SECTION.finditer(text))
    sections = [("user", text.strip())] if not marks else []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        sections.append((mark.group(1), text[mark.end() : end].strip()))
    try:  # a stray brace, in a sectioned template or a plain one
        for _, body in sections:
            list(string.Formatter().parse(body))
    except ValueError as exc:
        raise UserError(
            f"prompt template {name}: {exc} (write literal braces as {{{{ }}}})"
        ) from None
    return PromptTemplate(name, tuple(sections))
