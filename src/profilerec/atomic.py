"""Atomic stage outputs: build a folder beside its target, then swap it in with renames.

A stage killed mid-write must never leave a folder mixing new and old files (issue 14:
a half-replaced dataset was accepted by ``profile`` and crashed ``evaluate``). Every
stage that writes a folder can use :func:`atomic_folder`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from profilerec.errors import UserError

TMP_TAG = ".tmp-"
OLD_TAG = ".old-"

#: The names each kind of folder writes, when the stage does not pass its own ``owned``:
#: anything else in such a folder was put there by someone else and blocks a replacement.
OWNED_BY_KIND: dict[str, frozenset[str]] = {
    "profilerec dataset": frozenset(
        {"items.parquet", "interactions.parquet", "examples.parquet", "manifest.json"}
    ),
    "qa output": frozenset({"metrics.json", "answers.parquet", "report.html"}),
    # tensorboard/, mlruns/: ``evaluate --report-to`` logs, written after the swap
    "evaluation": frozenset(
        {"metrics.json", "ranks.parquet", "report.html", "tensorboard", "mlruns"}
    ),
}


def check_target(
    target: Path,
    marker: str,
    kind: str,
    owned: Collection[str] | None = None,
    overwrite: bool | None = None,
) -> None:
    """Refuse a target that is a file, or a non-empty folder that is not a ``kind`` folder.

    ``marker`` is the file whose presence makes a folder a finished ``kind`` output
    (e.g. ``manifest.json`` for a dataset); such a folder may be replaced, unless it holds
    entries other than ``owned`` (the names the stage writes; hidden names are its
    temporaries): another stage's output, which replacing would delete. ``overwrite``
    replaces such a folder anyway, and any non-empty folder; ``None`` means the command has
    no ``--overwrite`` flag, so the refusal does not offer one.
    """
    if target.exists() and not target.is_dir():
        raise UserError(f"{target} is a file, not a folder; choose another --out")
    if overwrite or not target.is_dir() or not any(target.iterdir()):
        return
    owned = OWNED_BY_KIND.get(kind) if owned is None else owned
    flag = "" if overwrite is None else " (or pass --overwrite)"
    if not (target / marker).is_file():
        raise UserError(
            f"{target} is a non-empty folder that is not a {kind} (no {marker}); "
            f"refusing to replace it: choose another --out or delete it{flag}"
        )
    foreign = sorted(
        p.name for p in target.iterdir() if p.name not in (owned or ()) and p.name[0] != "."
    )
    if owned is not None and foreign:
        raise UserError(
            f"{target} holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}, "
            f"which {'an' if kind[0] in 'aeiou' else 'a'} {kind} does not hold; refusing to "
            "replace it (that would delete them): "
            f"move them out or choose another --out{flag}"
        )


@contextlib.contextmanager
def atomic_folder(
    target: str | Path,
    marker: str,
    kind: str,
    owned: Collection[str] | None = None,
    overwrite: bool | None = None,
) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; on success it replaces ``target``.

    On an exception (or a kill) ``target`` is untouched: the temporary folder is removed
    (after a kill it stays as ``.NAME.tmp-*`` and the next run removes it). The swap is
    two renames, so the only window where ``target`` is briefly absent is between them;
    it is never mixed. A killed run in that window leaves the old folder as ``.NAME.old-*``.
    """
    target = Path(target)
    check_target(target, marker, kind, owned, overwrite)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {parent}: {exc.strerror or exc}") from None
    _remove_stale(parent, target.name)
    tmp = parent / f".{target.name}{TMP_TAG}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
    except OSError as exc:
        raise UserError(f"cannot write in {parent}: {exc.strerror or exc}") from None
    try:
        yield tmp
        (tmp / marker).stat()  # a stage that forgot its marker must not replace anything
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(tmp: Path, target: Path) -> None:
    if not target.exists():
        os.replace(tmp, target)
        return
    old = target.parent / f".{target.name}{OLD_TAG}{uuid.uuid4().hex[:8]}"
    os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def _remove_stale(parent: Path, name: str) -> None:
    """Remove temporary folders left by killed runs whose process no longer exists."""
    for path in parent.glob(f".{name}{TMP_TAG}*"):
        pid_text = path.name.removeprefix(f".{name}{TMP_TAG}").split("-")[0]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``path`` through a temporary file and a rename: readers see old or new, never half."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_file_atomic(path: str | Path, write: Callable[[Path], object]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename it over ``path``.

    For files a writer library produces itself (``frame.write_parquet``): a kill leaves the
    old file or the new one, never half of one. The temporary name is hidden and carries the
    process id, so two processes writing the same file never share one, and globs such as
    ``part-*.parquet`` never see it; a failed write removes it.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
