"""Moved to ``profilerec.profile.runs`` (issue 37: run provenance below the trainers).

Kept as a re-export while files edited elsewhere still import the old path; new code
imports ``profilerec.profile.runs``.
"""

from profilerec.profile.runs import (
    ADAPTER_DIR,
    BEST_DIR,
    adapter_dir,
    base_model_of,
    history_format_of,
    is_run_folder,
)

__all__ = [
    "ADAPTER_DIR",
    "BEST_DIR",
    "adapter_dir",
    "base_model_of",
    "history_format_of",
    "is_run_folder",
]
