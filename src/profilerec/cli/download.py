"""``download``: fetch a known dataset's official files (the only command that downloads)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from profilerec.cli.app import app, out
from profilerec.data.registry import DATASETS


def _help() -> str:
    """The command's help: every known dataset with its size, built from the registry."""
    lines = [
        "Fetch a known dataset's official files into --out: resumable (HTTP range requests), "
        "each file written as .part and renamed once complete and verified, a manifest "
        "(download.json) with each file's size and sha256. Without network it says so in "
        "one line, with the URLs and where to put the files by hand.",
        "",
        "Datasets (NAME [CATEGORY]: size):",
        "",
    ]
    for spec in DATASETS.values():
        cats = " CATEGORY" if spec.categories else ""
        lines += [f"{spec.name}{cats}: {spec.size}. {spec.title}.", ""]
    lines.append("Without a CATEGORY (or with an unknown one) the error lists the categories.")
    return "\n".join(lines)


@app.command(help=_help())
def download(
    name: Annotated[str, typer.Argument(help=f"Dataset: {', '.join(DATASETS)}.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the files (created).")],
    category: Annotated[
        str | None,
        typer.Argument(help="Category or state, where the dataset has several."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(help="Ask the server for each file's size (HEAD) and download nothing."),
    ] = False,
    mirror: Annotated[
        str | None,
        typer.Option(
            help="Fetch from this host instead of the official one, same paths (a lab's cache "
            "of the official files); checks are unchanged."
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(min=1, help="Seconds without a byte before a transfer counts as stalled."),
    ] = 60.0,
    retries: Annotated[
        int, typer.Option(min=0, help="Retries per file after a stall or a cut connection.")
    ] = 4,
) -> None:
    from profilerec.data.download import DownloadOptions, remote_sizes
    from profilerec.data.download import download as run_download
    from profilerec.data.registry import get_dataset
    from profilerec.data.transfer import fmt_bytes

    spec = get_dataset(name)
    cat = spec.resolve(category)
    options = DownloadOptions(
        read_timeout=timeout, connect_timeout=min(timeout, 20.0), retries=retries, mirror=mirror
    )
    if dry_run:
        for remote, size in remote_sizes(spec, cat, out_dir, options):
            shown = fmt_bytes(size) if size is not None else "size unknown"
            out.print(f"{out_dir / remote.path}\t{shown}\t{remote.url}")
        return
    _check_folder(out_dir)
    entry = run_download(spec, cat, out_dir, options)
    source = out_dir / entry["prepare"]["source"]
    out.print(f"{len(entry['files'])} files in {out_dir} (manifest: {out_dir}/download.json)")
    out.print(f"next: profilerec prepare {source} --format {entry['prepare']['format']} --out DATA")


def _check_folder(folder: Path) -> None:
    """An empty or new folder, or one this command wrote (it adds and resumes files there).

    Never another stage's folder or a folder inside one (``outputs.check_out``), and not a
    folder holding other files, so that the manifest describes everything in it.
    """
    from profilerec.data.download import MANIFEST
    from profilerec.errors import UserError
    from profilerec.outputs import check_out

    check_out(folder, None)
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MANIFEST).is_file():
        raise UserError(
            f"--out {folder} holds other files and no {MANIFEST}; download into a new folder"
        )
