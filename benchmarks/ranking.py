"""Full-catalogue ranking throughput and memory of ``rank_by_embeddings``.

Random float32 user and item vectors, 20 random masked items per user. Throughput is
compared with the raw matrix-multiply bound (``torch.mm`` of the same chunks, no masking
or top-k) timed in the same process, interleaved; peak memory is measured in a separate
process that only ranks, once per chunk size and catalogue size.

    .venv/bin/python benchmarks/ranking.py                 # 10k users x 100k items x 384
    .venv/bin/python benchmarks/ranking.py --quick --no-doc
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common

TARGET = 0.70
MASKED_PER_USER = 20


@dataclass(frozen=True)
class Shape:
    users: int
    items: int
    chunk: int

    @property
    def label(self) -> str:
        return f"{self.users:,} x {self.items:,}, chunk {self.chunk:,}"


# --------------------------------------------------------------------------- child


def status_bytes(field: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (VmRSS, VmHWM) in bytes."""
    text = Path("/proc/self/status").read_text()
    found = re.search(rf"^{field}:\s*(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


def make_inputs(shape: Shape, dim: int, seed: int) -> tuple[Any, Any, Any, list[Any]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    users = rng.standard_normal((shape.users, dim), dtype=np.float32)
    items = rng.standard_normal((shape.items, dim), dtype=np.float32)
    targets = rng.integers(0, shape.items, size=shape.users)
    masks = [rng.choice(shape.items, MASKED_PER_USER, replace=False) for _ in range(shape.users)]
    return users, items, targets, masks


def child_main(args: argparse.Namespace) -> None:
    """Inside a measured process: ``memory`` ranks once; ``time`` interleaves rank and mm."""
    import torch

    from profilerec.retrieval import rank_by_embeddings

    if args.threads:
        torch.set_num_threads(args.threads)
    shape = Shape(args.users, args.items, args.chunk)
    users, items, targets, masks = make_inputs(shape, args.dim, args.seed)
    inputs_rss = status_bytes("VmRSS")

    def rank() -> float:
        started = time.perf_counter()
        rank_by_embeddings(users, items, targets, masks, k=args.k, chunk_size=shape.chunk)
        return time.perf_counter() - started

    if args.child == "memory":
        seconds = rank()
        print(json.dumps({"inputs_rss": inputs_rss, "seconds": seconds}))
        return

    user_t = torch.from_numpy(users)
    item_t = torch.from_numpy(items).T.contiguous()

    def bound() -> float:
        started = time.perf_counter()
        with torch.no_grad():
            for start in range(0, shape.users, shape.chunk):
                torch.mm(user_t[start : start + shape.chunk], item_t)
        return time.perf_counter() - started

    rank()  # warm-up: first-touch page faults and allocator growth are not timed
    bound()
    times: dict[str, list[float]] = {"rank": [], "mm": []}
    for rep in range(args.reps):
        order = (("rank", rank), ("mm", bound)) if rep % 2 == 0 else (("mm", bound), ("rank", rank))
        for name, fn in order:
            times[name].append(fn())
    print(json.dumps(times))


# --------------------------------------------------------------------------- parent


def child_argv(args: argparse.Namespace, mode: str, shape: Shape) -> list[str]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", mode]
    argv += ["--users", str(shape.users), "--items", str(shape.items), "--chunk", str(shape.chunk)]
    argv += ["--dim", str(args.dim), "--k", str(args.k), "--reps", str(args.reps)]
    argv += ["--seed", str(args.seed)]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    return argv


def run(args: argparse.Namespace, mode: str, shape: Shape) -> tuple[_common.ChildRun, Any]:
    print(f"{mode}: {shape.label} ...", file=sys.stderr, flush=True)
    child = _common.run_child(child_argv(args, mode, shape))
    if child.returncode != 0:
        raise SystemExit(f"the {mode} child for {shape.label} failed ({child.returncode})")
    return child, json.loads(child.stdout.strip().splitlines()[-1])


def shapes_of(args: argparse.Namespace) -> list[Shape]:
    """Each chunk size at the base size, then 2x items and 2x users at the default chunk."""
    shapes = [Shape(args.users, args.items, c) for c in args.chunks]
    shapes.append(Shape(args.users, 2 * args.items, args.default_chunk))
    shapes.append(Shape(2 * args.users, args.items, args.default_chunk))
    return shapes


def parent_main(args: argparse.Namespace) -> None:
    machine = _common.machine()
    results: dict[Shape, dict[str, Any]] = {}
    for shape in shapes_of(args):
        memory, found = run(args, "memory", shape)
        _, times = run(args, "time", shape)
        results[shape] = {
            "peak": memory.peak_rss_bytes,
            "inputs": found["inputs_rss"],
            "rank": statistics.median(times["rank"]),
            "mm": statistics.median(times["mm"]),
        }
        r = results[shape]
        print(
            f"  rank {r['rank']:.2f} s, mm {r['mm']:.2f} s, ratio {r['mm'] / r['rank']:.2f}, "
            f"peak {_common.human_bytes(r['peak'])}",
            file=sys.stderr,
            flush=True,
        )
    text = report(args, machine, results)
    print(text)
    if not args.no_doc:
        _common.write_section("ranking", text)
        print(f"wrote section 'ranking' of {_common.DOC}", file=sys.stderr)


def report(args: argparse.Namespace, machine: dict[str, str], results: dict[Shape, Any]) -> str:
    hb = _common.human_bytes
    speed_rows = []
    memory_rows = []
    for shape, r in results.items():
        scores = shape.users * shape.items
        speed_rows.append(
            [
                shape.label,
                f"{r['rank']:.2f} s",
                f"{scores / r['rank'] / 1e6:,.0f}",
                f"{r['mm']:.2f} s",
                f"{scores / r['mm'] / 1e6:,.0f}",
                f"{r['mm'] / r['rank']:.2f}x",
            ]
        )
        chunk_rows = min(shape.chunk, shape.users)
        memory_rows.append(
            [
                shape.label,
                hb(r["peak"]),
                hb(r["inputs"]),
                hb(r["peak"] - r["inputs"]),
                hb(4 * chunk_rows * shape.items),
                hb(4 * shape.items * args.dim),
            ]
        )
    speed = _common.markdown_table(
        ["users x items", "rank", "M scores/s", "mm bound", "M scores/s (mm)", "rank / bound"],
        speed_rows,
    )
    memory = _common.markdown_table(
        [
            "users x items",
            "peak RSS",
            "after inputs",
            "ranking's own",
            "one chunk of scores",
            "item matrix",
        ],
        memory_rows,
    )
    base = results[Shape(args.users, args.items, args.default_chunk)]
    ratio = base["mm"] / base["rank"]
    verdict = (
        f"Target (`rank_by_embeddings` at least {TARGET:.2f}x the throughput of the bare `torch.mm` "
        f"bound at the default chunk {args.default_chunk:,}): "
        f"**{'met' if ratio >= TARGET else 'not met'}** ({ratio:.2f}x)."
    )
    packages = ["torch", "numpy", "profilerec"]
    version_text = ", ".join(f"{k} {v}" for k, v in _common.versions(packages).items())
    return f"""## ranking: full-catalogue `rank_by_embeddings`

What runs: `profilerec.retrieval.rank_by_embeddings(users, items, targets, masks,
k={args.k}, chunk_size=C)` on random standard-normal float32 vectors ({args.dim} dims, seed
{args.seed}), one random target and {MASKED_PER_USER} random masked items per user (cosine
scores, masking, the target's rank, top-{args.k}). The bound is `torch.mm(users[s:s+C], items.T)`
over the same chunks with the transposed item matrix made beforehand, and nothing done with
the scores. Both run in one process per row, after one untimed warm-up each, {args.reps} times
interleaved (order reversed every other repetition); medians shown. Throughput is user-item
scores per second.

{speed}

{verdict}

Memory, each row from a separate process that builds the inputs and ranks once: "peak RSS" is
its high-water mark (`os.wait4`), "after inputs" its RSS once the vectors and masks exist,
"ranking's own" the difference. `rank_by_embeddings` keeps float32 normalized copies of both
matrices plus a transposed item matrix, one `chunk x items` float32 score block, a same-shape
bool comparison and the top-k, so its own memory should follow the score block and the item
matrix, and not the number of users.

{memory}

- Date: {_common.today()}
- Command: `{_common.command_line()}`
{_common.facts_list(machine)}
- load average at end: {", ".join(f"{x:.2f}" for x in os.getloadavg())}
- Versions: {version_text}
"""


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--chunks", type=int_list, default=[256, 1024, 4096])
    parser.add_argument(
        "--default-chunk", type=int, default=1024, help="chunk of the 2x rows and the target"
    )
    parser.add_argument("--k", type=int, default=50, help="top-k kept per user")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a check that the script works (1k x 10k, 1 thread), not a measurement",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--child", choices=["memory", "time"], help=argparse.SUPPRESS)
    parser.add_argument("--chunk", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.items, args.threads = 1_000, 10_000, 1
        args.chunks, args.default_chunk = [128, 512], 128
    if args.default_chunk not in args.chunks:
        parser.error("--default-chunk must be one of --chunks")
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
