"""Bad-input corpus, issue 32: ``profile``'s flags and templates go through the validation
layer before any model is constructed (the ``model_free_cli`` fixture fails on building any
transformers model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bad_input._writes import refused


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--temperature", "-1"], "--temperature must be at least 0, not -1.0"),
        (["--temperature", "nan"], "--temperature must be a finite number, not nan"),
        (["--max-new-tokens", "0"], "--max-new-tokens must be at least 1, not 0"),
        (["--batch-size", "0"], "--batch-size must be at least 1, not 0"),
    ],
)
def test_profile_flags_are_refused_before_any_model(
    model_free_cli: Any, demo_dataset: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    refused(model_free_cli("profile", demo_dataset, "--out", tmp_path / "p", *args), message)
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Describe this shopper.", "has no {history} placeholder: every user would get the same"),
        ("### user\n{history} and {budget}", "unknown placeholder(s) budget"),
        ("### user\n{history} }", "Single '}' encountered"),
        ("{history} }", "Single '}' encountered"),
        ("{history} {}", "Replacement index 0 out of range"),
        ("{history!z}", "Unknown conversion specifier z"),
    ],
)
def test_profile_templates_are_checked_before_any_model(
    model_free_cli: Any, demo_dataset: Path, tmp_path: Path, text: str, message: str
) -> None:
    template = tmp_path / "t.txt"
    template.write_text(text)
    result = model_free_cli(
        "profile", demo_dataset, "--out", tmp_path / "p", "--template", template
    )
    refused(result, message)


def test_control_valid_flags_do_reach_the_model(
    model_free_cli: Any, demo_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    """The patch point is the one a valid request passes: the cases above stop before it."""
    args = ["--generator", f"transformers:{tiny_lm_dir}", "--limit", "1", "--dtype", "float32"]
    with pytest.raises(AssertionError, match="must not load a model"):
        model_free_cli("profile", demo_dataset, "--out", tmp_path / "p", *args)
