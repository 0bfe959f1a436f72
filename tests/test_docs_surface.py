"""The public surface stays readable (issue 37): a short README whose first block is the two
commands, a short results page whose generated blocks ``profilerec compare --write`` can find,
and research/ indexes that name every note and script they hold."""

from __future__ import annotations

import re
from pathlib import Path

from profilerec.report.compare import markers, replace_block

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_a_short_guide_opening_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 150
    first = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert commands == ["make demo", "make test"]
    for path in re.findall(r"\]\(((?:docs|research)/[^)#]+)\)", text):
        assert (ROOT / path).exists(), path


def test_results_page_is_short_and_every_block_is_rewritable() -> None:
    text = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 300
    assert "\n## Industrial_and_Scientific\n" in text
    assert "\n## BLUE on Industrial_and_Scientific\n" in text
    names = re.findall(r"<!-- profilerec compare: (\S+) begin -->", text)
    assert "Industrial_and_Scientific" in names and len(names) == len(set(names))
    for name in names:
        begin, end = markers(name)
        assert text.count(begin) == text.count(end) == 1, name
        assert replace_block(text, name, "x").count(begin) == 1


def test_research_indexes_name_every_note_and_script() -> None:
    notes = ROOT / "research" / "notes"
    index = (notes / "README.md").read_text(encoding="utf-8")
    for note in notes.glob("2*.md"):
        assert f"({note.name})" in index, note.name
    research = (ROOT / "research" / "README.md").read_text(encoding="utf-8")
    for script in ROOT.glob("research/*/*"):
        if script.suffix in (".py", ".sh") and script.parent.name != "industrial":
            assert f"`{script.parent.name}/{script.name}`" in research, script
