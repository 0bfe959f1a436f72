"""``train``'s request: the options as given, and the checks that run before any model
loads (length flags in each method's unit, flags that belong to another method, ``--set``
against a dedicated flag, positive rates). Apart from ``cli/train.py`` so that module keeps
to what each method runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profilerec.cli.app import console
from profilerec.errors import UserError

PROFILER_METHODS = ("blue", "rlpf", "judge", "rft")
RECOMMENDER_METHODS = ("proex", "pte")
EMBEDDER_METHODS = ("embedder",)


@dataclass
class TrainRequest:
    """The ``train`` command's options, as given (``None`` = not given)."""

    dataset: Path
    out_dir: Path
    method: str
    config: Path | None
    sets: dict[str, Any]
    max_steps: int | None
    model: str | None
    embedder: str | None
    seed: int | None
    backbones: list[str]
    profiles: Path | None
    k: int | None
    #: rft: sample-select-train rounds (``--rounds``).
    rounds: int | None = None
    #: proex / pte: epochs of each backbone; embedder: epochs of the embedder (``--epochs``).
    epochs: int | None = None
    #: rft: where the candidates are generated (``--engine``, ``--workers``, ...).
    engine: str | None = None
    workers: int | None = None
    ray_address: str | None = None
    worker_gpus: float | None = None


#: The length flag of each method, in that method's own unit (issue 37: one ``--max-steps``
#: once meant GRPO steps, RFT rounds or epochs depending on ``--method``).
LENGTH_FLAG = {
    **dict.fromkeys(("blue", "rlpf", "judge"), "--max-steps"),
    "rft": "--rounds",
    **dict.fromkeys(("proex", "pte", "embedder"), "--epochs"),
}
_UNIT = {"--max-steps": "GRPO steps", "--rounds": "rounds", "--epochs": "epochs"}


def _length_flags(req: TrainRequest) -> TrainRequest:
    """The request with its length in the method's own flag: the flag of another method is
    refused in one line; ``--max-steps`` for a method counted in rounds or epochs still works,
    with a deprecation note, as it did before the flags were split."""
    from dataclasses import replace

    own = LENGTH_FLAG.get(req.method)
    if own is None:
        return req
    given = {"--max-steps": req.max_steps, "--rounds": req.rounds, "--epochs": req.epochs}
    for flag, value in given.items():
        if value is None or flag == own:
            continue
        if flag == "--max-steps":
            if given[own] is not None and given[own] != value:
                raise UserError(f"--max-steps {value} contradicts {own} {given[own]}")
            console.print(
                f"note: --max-steps is deprecated for --method {req.method}; it counts "
                f"{_UNIT[own]} there: use {own} {value}",
                soft_wrap=True,  # one line, as every other message
            )
            given[own] = value
            continue
        raise UserError(
            f"{flag} does not apply to --method {req.method}; its length is {own} ({_UNIT[own]})"
        )
    if own == "--max-steps":
        return req
    if own == "--rounds":
        return replace(req, max_steps=None, rounds=given[own])
    return replace(req, max_steps=None, epochs=given[own])


#: The methods whose training generates on ``--engine ray`` (RFT's candidates); GRPO
#: generates inside TRL's trainer, ProEx and PtE train on profiles written beforehand.
ENGINE_METHODS = ("rft",)


def _only_for(req: TrainRequest, allowed: set[str]) -> None:
    given = {
        "--backbone": bool(req.backbones),
        "--profiles": req.profiles is not None,
        "--k": req.k is not None,
        "--model": req.model is not None,
    }
    wrong = [flag for flag, on in given.items() if on and flag not in allowed]
    if wrong:
        raise UserError(f"{', '.join(wrong)} does not apply to --method {req.method}")


def _overrides(sets: dict[str, Any], **flags: Any) -> dict[str, Any]:
    """``--set`` options plus the dedicated flags a user gave (an absent flag keeps ``--set``)."""
    given = {k: v for k, v in flags.items() if v is not None}
    clash = [k for k, v in given.items() if k in sets and sets[k] != v]
    if clash:
        k = clash[0]
        raise UserError(f"--set {k}={sets[k]} contradicts the flag that sets {k} to {given[k]}")
    return {**sets, **given}


def _check_positive(cfg: Any, source: str, names: tuple[str, ...]) -> None:
    """Refuse a non-positive rate or count before any model loads (TRL finds a negative
    learning rate only after both models are loaded)."""
    for name in names:
        value = getattr(cfg, name, None)
        if isinstance(value, int | float) and not value > 0:
            raise UserError(f"{source}: {name} must be > 0, not {value}")
