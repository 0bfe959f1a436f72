"""Moved to ``profilerec.profile.finite`` (issue 37: run provenance below the trainers).

Kept as a re-export while files edited elsewhere still import the old path; new code
imports ``profilerec.profile.finite``.
"""

from profilerec.profile.finite import (
    check_adapter,
    check_loss_finite,
    check_model_finite,
    diverged,
)

__all__ = ["check_adapter", "check_loss_finite", "check_model_finite", "diverged"]
