"""Moved to ``profilerec.profile.exposure`` (issue 37: run provenance below the trainers).

Kept as a re-export while research scripts and files edited elsewhere still import the old
path; new code imports ``profilerec.profile.exposure``.
"""

from profilerec.profile.exposure import (
    EXPOSURE_FILE,
    check_exposure,
    exposed_examples,
    exposure_frame,
    read_exposure,
    write_exposure,
)

__all__ = [
    "EXPOSURE_FILE",
    "check_exposure",
    "exposed_examples",
    "exposure_frame",
    "read_exposure",
    "write_exposure",
]
