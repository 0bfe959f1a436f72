"""``profilerec download``: fetch a known dataset's official files, resumably and verified.

The one place in profilerec that opens a network connection. Each file is written to
``PATH.part`` and renamed only once it is complete and checked (its size, its sha256 where
the registry pins one, a full read of a gzip or zip archive), so an interrupted run leaves
either the finished file or a ``.part`` that the next run resumes with an HTTP range
request. Every socket operation has a timeout and a slow trickle counts as a stall, so a
server that stops sending cannot hang the command; each file gets a bounded number of
retries. ``download.json`` in the output folder records each file's URL, size and sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from profilerec.data.registry import MIRRORS, DatasetSpec, RemoteFile, with_mirror
from profilerec.data.transfer import TransferProgress, fmt_bytes
from profilerec.errors import UserError

MANIFEST = "download.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class DownloadOptions:
    """Timeouts and retries; the defaults suit a slow link, tests make them short."""

    connect_timeout: float = 20.0
    #: Seconds without a byte before a read counts as stalled.
    read_timeout: float = 60.0
    #: Fewer than ``min_bytes`` in ``stall_window`` seconds also counts as stalled.
    stall_window: float = 120.0
    min_bytes: int = 1024
    retries: int = 4
    backoff: float = 2.0
    #: Replace the official host (a lab's cache, the tests' local server); paths are kept.
    mirror: str | None = None
    progress: bool = True


class _Stalled(Exception):
    """The server stopped sending (or sends too slowly to ever finish)."""


class _Unreachable(Exception):
    """No connection could be made at all (no network, DNS failure, refused)."""


def download(
    spec: DatasetSpec, category: str, out: Path, options: DownloadOptions
) -> dict[str, Any]:
    """Fetch every file of ``spec``/``category`` into ``out``; returns the manifest entry."""
    files = spec.files(category)
    out.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(out)
    records: list[dict[str, Any]] = []
    with client_for(options) as client:
        for remote in files:
            try:
                record = fetch(client, remote, out, options, manifest["files"].get(remote.path))
            except _Unreachable as exc:
                raise UserError(_offline_message(exc, files, out)) from None
            if record is None:
                continue
            records.append(record)
            manifest["files"][remote.path] = record
            _save_manifest(out, manifest)
    key = f"{spec.name}/{category}" if category else spec.name
    entry = {
        "dataset": spec.name,
        "category": category,
        "homepage": spec.homepage,
        "licence": spec.licence,
        "prepare": {"format": spec.prepare_format, "source": spec.prepare_source(category)},
        "files": [r["path"] for r in records],
        "finished": _now(),
    }
    manifest["datasets"][key] = entry
    _save_manifest(out, manifest)
    return entry


def client_for(options: DownloadOptions) -> httpx.Client:
    """A client whose every socket operation is bounded by the options' timeouts."""
    timeout = httpx.Timeout(
        options.read_timeout, connect=options.connect_timeout, pool=options.connect_timeout
    )
    return httpx.Client(timeout=timeout, follow_redirects=True)


def remote_sizes(
    spec: DatasetSpec, category: str, out: Path, options: DownloadOptions
) -> list[tuple[RemoteFile, int | None]]:
    """Each file with its size from a HEAD request (None where the server does not say)."""
    files = spec.files(category)
    sizes: list[tuple[RemoteFile, int | None]] = []
    with client_for(options) as client:
        for remote in files:
            url = urls_of(remote, options.mirror)[0]
            try:
                response = client.head(url)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                where = _Unreachable(f"{urlsplit(url).netloc}: {exc}")
                raise UserError(_offline_message(where, files, out)) from None
            except httpx.TimeoutException:
                raise UserError(f"{url}: no answer within {options.read_timeout:.0f}s") from None
            if response.status_code == 404 and remote.optional:
                sizes.append((remote, None))
                continue
            if response.status_code >= 400:
                raise UserError(f"{url}: HTTP {response.status_code} {response.reason_phrase}")
            length = response.headers.get("content-length", "")
            sizes.append((remote, int(length) if length.isdigit() else remote.size))
    return sizes


def urls_of(remote: RemoteFile, mirror: str | None) -> list[str]:
    """The URLs to try for ``remote``: the mirror alone, else the official host then its mirrors."""
    if mirror:
        return [with_mirror(remote.url, mirror)]
    urls = [remote.url]
    for root, others in MIRRORS.items():
        if remote.url.startswith(root):
            urls += [other + remote.url[len(root) :] for other in others]
    return urls


def fetch(
    client: httpx.Client,
    remote: RemoteFile,
    out: Path,
    options: DownloadOptions,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """One file: skip it when already complete, else download (resuming), verify and rename.

    Returns its manifest record, or None for an optional file upstream does not serve.
    """
    final = out / remote.path
    done = final.is_file() and previous and previous.get("bytes") == final.stat().st_size
    if done and remote.sha256 in (None, previous.get("sha256")):  # type: ignore[union-attr]
        _say(options, f"{remote.path}: already downloaded")
        return previous
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    urls = urls_of(remote, options.mirror)
    unreachable: list[_Unreachable] = []
    for url in urls:
        try:
            ok = _fetch_url(client, url, part, remote, options)
        except _Unreachable as exc:
            unreachable.append(exc)
            continue
        if not ok:
            return None
        digest = _verify(part, remote)
        os.replace(part, final)
        record = {
            "path": remote.path,
            "url": url,
            "bytes": final.stat().st_size,
            "sha256": digest,
            "downloaded_at": _now(),
        }
        if remote.unpack:
            record["unpacked"] = _unpack(final, out)
        _say(options, f"{remote.path}: {fmt_bytes(record['bytes'])}, sha256 {digest[:12]}...")
        return record
    raise unreachable[0]


def _fetch_url(
    client: httpx.Client, url: str, part: Path, remote: RemoteFile, options: DownloadOptions
) -> bool:
    """Bring ``part`` to the whole file at ``url``; False for a missing optional file.

    Retries after a stall or a cut connection resume from the bytes already written; a
    refused first connection is ``_Unreachable`` (no retry: offline is not transient).
    """
    attempt = 0
    while True:
        try:
            return _stream(client, url, part, remote, options)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if attempt == 0 and not part.exists():
                raise _Unreachable(f"{urlsplit(url).netloc}: {exc}") from exc
            reason = f"cannot connect ({exc})"
        except (httpx.ReadTimeout, _Stalled) as exc:
            reason = f"stalled ({exc or 'no data'})"
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            reason = f"connection cut ({exc})"
        attempt += 1
        if attempt > options.retries:
            have = part.stat().st_size if part.exists() else 0
            raise UserError(
                f"{url}: {reason}; gave up after {options.retries} retries "
                f"({fmt_bytes(have)} kept in {part}; rerun to resume)"
            )
        _say(options, f"{remote.path}: {reason}; retry {attempt}/{options.retries}")
        time.sleep(options.backoff * attempt)


def _stream(
    client: httpx.Client, url: str, part: Path, remote: RemoteFile, options: DownloadOptions
) -> bool:
    have = part.stat().st_size if part.exists() else 0
    # identity: a compressed transfer would make byte ranges refer to other bytes
    headers = {"Accept-Encoding": "identity"} | ({"Range": f"bytes={have}-"} if have else {})
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 416 and have:  # the part may already be whole
            total = _range_total(response.headers.get("content-range", ""))
            if total == have:
                return True
            part.unlink()
            return _stream(client, url, part, remote, options)
        if response.status_code == 404:
            if remote.optional:
                _say(options, f"{remote.path}: not served upstream (optional), skipped")
                return False
            raise UserError(
                f"{url}: 404 Not Found (has upstream moved it? see the dataset's homepage)"
            )
        if response.status_code >= 400:
            if response.status_code >= 500:  # transient on the server's side: retried
                raise httpx.RemoteProtocolError(f"HTTP {response.status_code}")
            raise UserError(f"{url}: HTTP {response.status_code} {response.reason_phrase}")
        if response.status_code == 206:
            start = _range_start(response.headers.get("content-range", ""))
            if start != have:
                raise UserError(f"{url}: the server resumed at byte {start}, not {have}")
            total = _range_total(response.headers.get("content-range", ""))
            mode = "ab"
        else:  # 200: the server ignored the range; start over
            have, mode = 0, "wb"
            length = response.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
        total = total or remote.size
        with (
            part.open(mode) as sink,
            TransferProgress(remote.path, total, have, enabled=options.progress) as bar,
        ):
            window_start, window_bytes = time.monotonic(), 0
            for chunk in response.iter_raw():  # raw: byte offsets must match the file
                sink.write(chunk)
                bar.advance(len(chunk))
                window_bytes += len(chunk)
                now = time.monotonic()
                if now - window_start >= options.stall_window:
                    if window_bytes < options.min_bytes:
                        raise _Stalled(f"{window_bytes} bytes in {options.stall_window:.0f}s")
                    window_start, window_bytes = now, 0
    size = part.stat().st_size
    if total is not None and size < total:
        raise httpx.RemoteProtocolError(f"connection closed at {size} of {total} bytes")
    return True


def _verify(part: Path, remote: RemoteFile) -> str:
    """sha256 of the finished ``part``; a wrong size or sum, or a broken archive, is refused.

    A refused file is deleted: resuming it would only extend the bad bytes.
    """
    name = remote.path
    try:
        if remote.size is not None and part.stat().st_size != remote.size:
            raise UserError(
                f"{name}: {part.stat().st_size} bytes, expected {remote.size}; "
                "removed, rerun to fetch it again"
            )
        digest = _sha256(part)
        if remote.sha256 is not None and digest != remote.sha256:
            raise UserError(
                f"{name}: sha256 {digest} is not the published {remote.sha256}; removed"
            )
        if name.endswith(".gz"):
            _check_gzip(part, name)
        elif name.endswith(".zip"):
            _check_zip(part, name)
    except UserError:
        part.unlink(missing_ok=True)
        raise
    return digest


def _check_gzip(path: Path, name: str) -> None:
    """Read the whole stream: a truncated or corrupt gzip fails here, not in ``prepare``."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(CHUNK):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise UserError(
            f"{name}: not a valid gzip file ({exc}); removed, rerun to fetch it again"
        ) from None


def _check_zip(path: Path, name: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise UserError(
            f"{name}: not a valid zip file ({exc}); removed, rerun to fetch it again"
        ) from None
    if bad is not None:
        raise UserError(f"{name}: member {bad} is corrupt; removed, rerun to fetch it again")


def _unpack(archive: Path, out: Path) -> list[str]:
    """Extract ``archive`` into ``out`` through a temporary folder, then rename into place."""
    tmp = out / f".{archive.stem}.unpacking"
    if tmp.exists():
        shutil.rmtree(tmp)
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            target = (tmp / member).resolve()
            if tmp.resolve() not in target.parents and target != tmp.resolve():
                raise UserError(f"{archive.name}: member {member!r} would land outside {out}")
        zf.extractall(tmp)
    tops = sorted(p.name for p in tmp.iterdir())
    for name in tops:
        dest = out / name
        if dest.exists():
            shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
        os.replace(tmp / name, dest)
    tmp.rmdir()
    return tops


def _offline_message(exc: _Unreachable, files: list[RemoteFile], out: Path) -> str:
    hand = "; ".join(f"{f.url} -> {out / f.path}" for f in files)
    return f"no network: cannot reach {exc}. Fetch the files by hand and put them here: {hand}"


def _range_start(header: str) -> int | None:
    try:
        return int(header.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _range_total(header: str) -> int | None:
    tail = header.rsplit("/", 1)[-1] if "/" in header else ""
    return int(tail) if tail.isdigit() else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _load_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if not path.is_file():
        return {"datasets": {}, "files": {}}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not readable JSON ({exc}); remove it to start over") from None
    data.setdefault("datasets", {})
    data.setdefault("files", {})
    return data


def _save_manifest(out: Path, manifest: dict[str, Any]) -> None:
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, out / MANIFEST)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _say(options: DownloadOptions, text: str) -> None:
    if options.progress:
        print(text, file=sys.stderr, flush=True)
