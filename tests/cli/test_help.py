"""Help texts: no phantom command, no default output folder, defaults shown (issue 33)."""

from __future__ import annotations

import re
from typing import Any

import typer.main

from profilerec.cli import app
from profilerec.methods.pte.profiling import PtEProfilesConfig

COMMAND: Any = typer.main.get_command(app)  # a typer group (click's, vendored)


def option(command: str, name: str) -> Any:
    found = [p for p in COMMAND.commands[command].params if name in getattr(p, "opts", [])]
    assert len(found) == 1
    return found[0]


def test_top_level_help_names_only_real_commands() -> None:
    words = re.findall(r"[a-z-]+", (COMMAND.help or "").partition(":")[2])
    assert words and set(words) <= set(COMMAND.commands), words
    assert "embed" not in words


def test_out_has_no_default_except_quickstart() -> None:
    with_out = [name for name, c in COMMAND.commands.items()
                if any("--out" in getattr(p, "opts", []) for p in c.params)]  # fmt: skip
    assert {"prepare", "profile", "evaluate", "select", "train", "quickstart"} <= set(with_out)
    for name in with_out:
        out = option(name, "--out")
        assert out.required is (name != "quickstart"), name
        assert (out.default is None) is (name != "quickstart"), name


def test_options_without_a_value_say_their_default() -> None:
    defaults = PtEProfilesConfig()
    for name, value in (("--rounds", defaults.rounds), ("--candidates", defaults.candidates),
                        ("--batch-size", defaults.batch_size)):  # fmt: skip
        assert f"default {value}," in (option("pte-profiles", name).help or ""), name
    assert "default: the first profile set" in (option("evaluate", "--reference").help or "")
    assert "default test" in (option("profile", "--split").help or "")


def test_prepare_without_out_is_a_usage_error() -> None:
    from bad_input._cli import assert_usage_error, run_cli

    assert_usage_error(run_cli("prepare", "--demo"), "Missing option '--out'")
