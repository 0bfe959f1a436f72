"""The write rules every command that writes a folder follows (docs/architecture.md, "Write rules").

1. An output goes to a folder of its own: never inside another stage's folder (a dataset,
   a profile set, an evaluation, a QA run, a training run), and never into one.
2. A folder is replaced only by the stage that wrote it, and only when it holds nothing
   else (``atomic.check_target``); ``--overwrite`` lifts that, never rule 1.
3. A rerun over a stage's own output resumes it or is refused (``profile/guard.py``).

A folder is recognised as a stage's output by the files only that stage writes there, so
a stray ``manifest.json`` in a home folder does not make it a dataset.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from profilerec.errors import UserError

#: (files that together mark a stage's folder, what the folder is). First match wins.
STAGE_MARKERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("manifest.json", "examples.parquet"), "dataset"),
    (("profiles.parquet",), "profile set"),
    (("profile_config.json",), "profile set"),
    (("user_profiles.parquet",), "ProEx profile set"),
    (("users.parquet", "items.parquet"), "PtE profile set"),
    (("answers.parquet", "metrics.json"), "QA run"),
    (("metrics.json", "ranks.parquet"), "evaluation"),
    (("train_log.jsonl",), "training run"),
    (("blue_config.json",), "training run"),
    (("rft_config.json",), "training run"),
    (("adapter_config.json",), "adapter"),
)


def stage_of(folder: Path) -> str | None:
    """What stage's output ``folder`` is, or None (also for a file or a missing path)."""
    if not folder.is_dir():
        return None
    for files, kind in STAGE_MARKERS:
        if all((folder / f).is_file() for f in files):
            return kind
    return None


def check_out(
    out: str | Path,
    own: str | tuple[str, ...] | None,
    *,
    inputs: Iterable[str | Path] = (),
    flag: str = "--out",
) -> None:
    """Refuse an output folder that breaks rule 1, before any work is done.

    ``own``: the kind this command writes (its own earlier output may be resumed or
    replaced, under rule 2); ``inputs``: folders this command reads, which it must not
    write into or over.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{flag} {out} is a file, not a folder; choose another {flag}")
    here = out.resolve()
    for source in inputs:
        src = Path(source).resolve()
        if here == src or src in here.parents:
            raise UserError(
                f"{flag} {out} is inside the input folder {source}; "
                "write the output to a folder of its own"
            )
    for parent in here.parents:
        kind = stage_of(parent)
        if kind is not None:
            raise UserError(
                f"{flag} {out} is inside the {kind} folder {parent}; write the output to a "
                "folder of its own (a later run over that folder would replace it)"
            )
    owns = (own,) if isinstance(own, str) else own or ()
    kind = stage_of(out)
    if kind is not None and kind not in owns:
        raise UserError(
            f"{flag} {out} is another stage's folder ({kind}); "
            "write the output to a folder of its own"
        )
