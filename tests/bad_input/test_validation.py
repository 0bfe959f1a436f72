"""Bad-input corpus, issue 32: the validation layer (``profilerec/validation.py``) refuses
wrong types and out-of-range values of every config and flag in one line, and no model is
constructed first (the ``model_free_cli`` fixture fails on building any transformers model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bad_input._writes import refused
from bad_input.test_prepare import reviews


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("learning_rate: .inf", "learning_rate must be a finite number, not inf"),
        ("learning_rate: .nan", "learning_rate must be a finite number, not nan"),
        ("learning_rate: true", "learning_rate must be a number, not True"),
        ('bf16: "no"', "bf16 must be true or false, not 'no'"),
        ("beta: -1", "beta must be at least 0, not -1"),
        ("save_every: 0", "save_every must be at least 1, not 0"),
        ("eval_every: -1", "eval_every must be at least 0, not -1"),
        ("lora_r: -4", "lora_r must be at least 1, not -4"),
        ("lora_dropout: 2", "lora_dropout must be < 1, not 2"),
        ("temperature: 0", "temperature must be > 0, not 0"),
        ("lora_targets: q_proj", "lora_targets must be a list, not 'q_proj'"),
        ("threads: -1", "threads must be at least 1, not -1"),
        ("max_completion_length: 0", "max_completion_length must be at least 1, not 0"),
        ("max_steps: 2.5", "max_steps must be a whole number, not 2.5"),
        # a quoted number was cut to an integer: "1.5" trained 1 step, silently
        ('max_steps: "1.5"', "max_steps must be a whole number, not '1.5'"),
        ('max_steps: "many"', "max_steps must be a number, got 'many'"),
        ('learning_rate: "nan"', "learning_rate must be a finite number, not nan"),
        ("blue:\n  lr: 1", "unknown option(s) lr"),
    ],
)
def test_blue_config_values_are_refused_before_any_model(
    model_free_cli: Any, demo_dataset: Path, tmp_path: Path, yaml_text: str, message: str
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml_text + "\n")
    result = model_free_cli("train", demo_dataset, "--config", config, "--out", tmp_path / "run")
    refused(result, f"{config}: {message}")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a YAML text file (binary content)"),
        (b"learning_rate: [1,\n", "not valid YAML"),
        (b"- a\n- b\n", "expected a mapping of option: value"),
    ],
)
def test_a_config_file_that_is_not_yaml_is_one_line(
    model_free_cli: Any, demo_dataset: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes(content)
    refused(
        model_free_cli("train", demo_dataset, "--config", config, "--out", tmp_path / "run"),
        message,
    )


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["--set", "max_seq_length=0"], "--set: max_seq_length must be at least 1, not 0"),
        (["--set", "learning_rate=.inf"], "--set: learning_rate must be a finite number"),
        (["--set", "max_seq_length=100000"], "max_seq_length 100000 is beyond the 512 positions"),
    ],
)
def test_embedder_options_are_refused_before_any_model(
    model_free_cli: Any, demo_dataset: Path, tmp_path: Path, sets: list[str], message: str
) -> None:
    result = model_free_cli(
        "train", demo_dataset, "--method", "embedder", *sets, "--out", tmp_path / "e"
    )
    refused(result, message)


def test_a_negative_memory_limit_is_refused(model_free_cli: Any, tmp_path: Path) -> None:
    """DuckDB read "-4GB" as no limit at all: the streaming engine ran unbounded."""
    source = reviews(tmp_path)
    args = ["prepare", source, "--out", tmp_path / "o", "--engine", "streaming"]
    refused(
        model_free_cli(*args, "--memory-limit", "-4GB"),
        "--memory-limit '-4GB' is not a size like 4GB",
    )
    assert not (tmp_path / "o").exists()


def test_a_training_template_without_history_is_refused(
    model_free_cli: Any, demo_dataset: Path, tmp_path: Path
) -> None:
    template = tmp_path / "t.txt"
    template.write_text("Describe a shopper.")
    for method in ("blue", "rft"):
        args = ["--method", method, "--set", f"template={template}", "--out", tmp_path / "run"]
        refused(model_free_cli("train", demo_dataset, *args), "has no {history} placeholder")


def test_numbers_written_as_text_are_read_exactly() -> None:
    """YAML 1.1 reads ``1e-4`` (no dot) as text: such texts are numbers, never rounded."""
    from profilerec.configs import from_mapping
    from profilerec.methods.blue.config import BlueConfig

    cfg = from_mapping(BlueConfig, {"max_steps": "1e1", "learning_rate": "1e-4"}, "c.yaml")
    assert cfg.max_steps == 10 and isinstance(cfg.max_steps, int)
    assert cfg.learning_rate == 1e-4
