"""Building dataclass configs from option: value pairs (YAML files, ``--set`` flags).

One function for every config class (BlueConfig, ProExConfig, ...), so every command
reports unknown options, wrong types and out-of-range values the same way
(``profilerec/validation.py``: pydantic, strict, before any model loads).
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from profilerec.errors import UserError

T = TypeVar("T")


def from_mapping(cls: type[T], data: dict[str, Any], source: str, **overrides: Any) -> T:
    """``cls(**data)`` with ``overrides`` on top (``None`` ones ignored); unknown options
    and non-numbers where numbers belong are a :class:`UserError` naming ``source``."""
    data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - set(fields)
    if unknown:
        raise UserError(f"{source}: unknown option(s) {', '.join(sorted(unknown))}")
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        default, hint = fields[key].default, hints.get(key)
        numeric = isinstance(default, float | int) and not isinstance(default, bool)
        if isinstance(value, str) and (hint in (int, float) or numeric):
            # the annotation decides (``lora_alpha: float = 16`` takes 1.5), else the default
            whole = hint is int if hint in (int, float) else isinstance(default, int)
            data[key] = _number(value, whole=whole, what=f"{source}: {key}")
    from profilerec.validation import validate_options

    validate_options(cls, data, source)  # strict types and ranges, before any model loads
    try:
        return cls(**data)
    except TypeError as err:  # e.g. a list where a number belongs
        raise UserError(f"{source}: {err}") from None


def _number(text: str, *, whole: bool, what: str) -> float | int:
    """A number written as text (YAML 1.1 reads ``1e-4``, with no dot, as a string).

    ``whole``: the option is an integer, so ``"1.5"`` is refused rather than cut to 1;
    ``"1e3"`` is 1000. Non-finite texts pass through as floats for the validation layer
    to refuse with its usual message.
    """
    try:
        number = float(text)
    except ValueError:
        raise UserError(f"{what} must be a number, got {text!r}") from None
    if not whole:
        return number
    if not number.is_integer():
        raise UserError(f"{what} must be a whole number, not {text!r}")
    return int(number)


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs; values are read as YAML (``true``, ``1e-4``, ``[a, b]``)."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {item!r}: expected KEY=VALUE")
        try:
            parsed[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise UserError(f"--set {item!r}: the value is not valid YAML") from None
    return parsed


def read_yaml_options(path: Path, section: str) -> dict[str, Any]:
    """The option mapping of a YAML config file (its ``section:`` block if there is one)."""
    if not path.is_file():
        raise UserError(f"config file {path} not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a YAML text file (binary content)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        what = getattr(exc, "problem", None) or type(exc).__name__
        raise UserError(f"{path}{where}: not valid YAML ({what})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of option: value")
    block = data.get(section, data)
    if not isinstance(block, dict):
        raise UserError(f"{path}: '{section}' must be a mapping of option: value")
    return block
