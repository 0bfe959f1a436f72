"""One validation layer for every config option and flag, run before any model loads (issue 32).

Options are checked by pydantic against the config dataclass's own annotations, strictly: no
YAML truthiness (``bf16: "no"`` is not true), no bool as a number (``learning_rate: true`` is
not 1.0), no float where an integer belongs, no string where a list belongs
(``lora_targets: q_proj``); every float finite. Ranges come from :data:`RANGES`, by option name,
so a flag and a config option of the same name obey the same rule (``check_flag``).
``configs.from_mapping`` runs :func:`validate_options` on every YAML file and ``--set``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from typing import Annotated, Any, Literal

import pydantic
from pydantic import Field, Strict, StrictBool, StrictStr

from profilerec.errors import UserError

_AT_LEAST_1 = {"ge": 1}
_AT_LEAST_0 = {"ge": 0}
#: Range of each option, by name, wherever it appears. Floats are always finite.
RANGES: dict[str, dict[str, float]] = {
    "learning_rate": {"gt": 0},
    # GRPO and sampled candidates sample: 0 would divide the logits by zero
    "temperature": {"gt": 0},
    "sample_temperature": {"gt": 0},
    "reward_temperature": {"gt": 0},
    "top_p": {"gt": 0, "le": 1},
    "beta": {"ge": 0},
    "lora_r": _AT_LEAST_1,
    "lora_alpha": {"gt": 0},
    "lora_dropout": {"ge": 0, "lt": 1},
    "num_generations": {"ge": 2},
    "save_every": _AT_LEAST_1,
    "eval_every": _AT_LEAST_0,  # 0 = validate at the end only
    "embedder_every": _AT_LEAST_0,
    "threads": _AT_LEAST_1,
    **dict.fromkeys(
        (
            "max_steps",
            "prompts_per_step",
            "micro_batch_size",
            "max_completion_length",
            "max_new_tokens",
            "max_seq_length",
            "max_words",
            "history_items",
            "history_item_chars",
            "item_text_budget",
            "n_positives",
            "num_samples",
            "gen_batch_size",
            "batch_size",
            "epochs",
            "rounds",
        ),
        _AT_LEAST_1,
    ),
    **dict.fromkeys(
        (
            "history_snippet_chars",
            "train_examples",
            "n_negatives",
            "eval_examples",
            "eval_per_user",
            "embedder_examples",
            "valid_examples",
        ),
        _AT_LEAST_0,
    ),
}
#: Where a config gives an option another meaning: (class name, option) -> range.
EXCEPTIONS: dict[tuple[str, str], dict[str, float]] = {
    ("EmbedderTuneConfig", "threads"): _AT_LEAST_0,  # 0 = torch's default
    ("PtEProfilesConfig", "rounds"): _AT_LEAST_0,  # refinement rounds: 0 = single pass
}


def _strict(hint: Any, limits: dict[str, float] | None = None) -> Any:
    """The strict pydantic type of a dataclass annotation, ``limits`` on its number
    (``Any`` where no rule applies: nested configs, mappings)."""
    bound = Field(**(limits or {}))
    if hint is bool:
        return StrictBool
    if hint is int:
        return Annotated[int, Strict(), bound]
    if hint is float:
        return Annotated[float, Strict(), Field(allow_inf_nan=False), bound]
    if hint is str:
        return StrictStr
    if hint is type(None):
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return hint
    if origin in (types.UnionType, typing.Union):
        return typing.Union[tuple(_strict(a, limits) for a in args)]  # noqa: UP007
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return tuple[_strict(args[0]), ...]  # type: ignore[misc]
    if origin is list and args:
        return list[_strict(args[0])]  # type: ignore[misc]
    return Any


@cache
def _model(cls: type) -> type[pydantic.BaseModel]:
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        limits = EXCEPTIONS.get((cls.__name__, f.name), RANGES.get(f.name))
        fields[f.name] = (_strict(hints[f.name], limits), None)
    return pydantic.create_model(f"{cls.__name__}Options", **fields)


def validate_options(cls: type, data: dict[str, Any], source: str) -> None:
    """Refuse any option of ``data`` whose type or range is wrong for ``cls``, in one line
    naming ``source`` and the option (defaults are not checked: they are the code's own)."""
    try:
        _model(cls)(**data)
    except pydantic.ValidationError as exc:
        raise UserError(f"{source}: {_describe(exc.errors()[0])}") from None


def check_flag(flag: str, value: Any, **limits: float) -> None:
    """Refuse a command-line flag's value that is not finite or breaks ``limits`` (default:
    the :data:`RANGES` rule of the option of the same name)."""
    limits = limits or RANGES.get(flag.lstrip("-").replace("-", "_"), {})
    kind: Any = Annotated[float, Field(allow_inf_nan=False, **limits)]
    if isinstance(value, int) and not isinstance(value, bool):
        kind = Annotated[int, Field(**limits)]
    try:
        pydantic.TypeAdapter(kind).validate_python(value)
    except pydantic.ValidationError as exc:
        error = {**exc.errors()[0], "loc": (flag,)}
        raise UserError(_describe(error)) from None


_KINDS = {
    "bool_type": "true or false",
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "a text",
    "tuple_type": "a list",
    "list_type": "a list",
    "finite_number": "a finite number",
}


def _describe(error: dict[str, Any]) -> str:
    """One line for pydantic's first error: ``NAME must be ..., not VALUE``."""
    # the option itself: a union (``bf16: bool | Literal["auto"]``) adds its member's tag
    name = str(error["loc"][0])
    value, ctx, kind = error.get("input"), error.get("ctx") or {}, error["type"]
    bounds = {
        "greater_than": f"> {ctx.get('gt', 0):g}",
        "greater_than_equal": f"at least {ctx.get('ge', 0):g}",
        "less_than": f"< {ctx.get('lt', 0):g}",
        "less_than_equal": f"at most {ctx.get('le', 0):g}",
    }
    if kind in bounds:
        return f"{name} must be {bounds[kind]}, not {value}"
    if kind in _KINDS:
        return f"{name} must be {_KINDS[kind]}, not {value!r}"
    return f"{name}: {error['msg'].lower()}, not {value!r}"
