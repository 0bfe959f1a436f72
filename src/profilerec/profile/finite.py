"""Non-finite training is stopped, never kept (issue 32).

``learning_rate: .inf`` once trained to exit 0 with a half-NaN adapter kept as
``best_adapter``, which ``profile --adapter`` then turned into all-empty profiles. Here:

- ``methods.blue.validation.FiniteCallback`` stops a run (a ``UserError``) at the first
  non-finite loss (:func:`check_loss_finite`) or trainable weight, before the step's
  checkpoint, validation or adapter is saved;
- :func:`check_model_finite` guards every ``save_pretrained`` of a trained adapter;
- :func:`check_adapter` refuses an adapter folder whose config is malformed or whose
  weights are not finite, before any model loads (``profile.runs.adapter_dir``).

It sits in ``profile/`` because the adapter check guards every profiler load; the trainers
import it from below, as they import the run and exposure records.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from profilerec.errors import UserError

_ADVICE = "nothing from this step is kept; lower learning_rate (or max_grad_norm) and rerun"


def _bad_tensors(tensors: Any) -> tuple[int, int]:
    """(tensors holding NaN or inf, tensors) of an iterable of torch tensors."""
    import torch

    bad = total = 0
    for t in tensors:
        total += 1
        if t.is_floating_point() and not bool(torch.isfinite(t.detach()).all()):
            bad += 1
    return bad, total


def check_model_finite(model: Any, when: str) -> None:
    """Refuse a model whose trainable weights (the LoRA adapter's) are not all finite."""
    bad, total = _bad_tensors(p for p in model.parameters() if p.requires_grad)
    if bad:
        raise UserError(
            f"training diverged {when}: {bad} of {total} trainable weight tensors hold NaN "
            f"or inf; {_ADVICE}"
        )


def diverged(exc: BaseException, when: str) -> UserError | None:
    """The one-line error for torch's sampling failure on non-finite logits (weights still
    finite but so large that the model's outputs overflow), or None for any other error."""
    text = str(exc)
    if isinstance(exc, RuntimeError) and "probability tensor contains" in text:
        return UserError(f"training diverged {when}: the model's outputs are not finite; {_ADVICE}")
    return None


def check_loss_finite(logs: dict[str, Any] | None, step: int) -> None:
    """Refuse a logged non-finite loss."""
    loss = (logs or {}).get("loss")
    if isinstance(loss, int | float) and not math.isfinite(loss):
        raise UserError(f"training diverged at step {step}: the loss is {loss}; {_ADVICE}")


def check_adapter(folder: Path) -> None:
    """A PEFT adapter folder ``profile --adapter`` can use: a JSON-object config naming its
    ``peft_type``, and finite weights."""
    config = folder / "adapter_config.json"
    try:
        data = json.loads(config.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{config}: malformed adapter_config.json ({exc})") from None
    if not isinstance(data, dict) or "peft_type" not in data:
        raise UserError(f"{config}: malformed adapter_config.json (no peft_type)")
    for weights in sorted(folder.glob("adapter_model.*")):
        bad, total = _bad_tensors(_load_weights(weights))
        if bad:
            raise UserError(
                f"{weights}: {bad} of {total} adapter weight tensors hold NaN or inf (the "
                "training run diverged); retrain with a lower learning_rate"
            )


def _load_weights(path: Path) -> list[Any]:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return list(load_file(str(path)).values())
        if path.suffix == ".bin":
            import torch

            return list(torch.load(str(path), map_location="cpu", weights_only=True).values())
    except Exception as exc:  # a truncated or foreign file: say which
        raise UserError(f"{path}: unreadable adapter weights ({type(exc).__name__})") from None
    return []
