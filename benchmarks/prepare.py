"""Benchmark ``profilerec prepare`` against the same work written in plain pandas.

Both read a large synthetic Amazon-2023 reviews JSONL (real review texts, re-keyed users
and items), collapse duplicate (user, item) pairs to the earliest, apply an iterative
5-core, build leave-last-out examples with the last 20 items as history, and write
Parquet. Each runs in a fresh process so its peak RSS is its own; the outputs must agree.

    .venv/bin/python benchmarks/prepare.py                  # 2,000,000 reviews
    .venv/bin/python benchmarks/prepare.py --reviews 200000 --no-doc
    # the out-of-core engine beside the in-memory one, written to its own section:
    .venv/bin/python benchmarks/prepare.py --implementations streaming --section prepare-streaming
    .venv/bin/python benchmarks/prepare.py --reviews 20000000 --implementations streaming \
        --only streaming --section prepare-streaming-20m
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import _common

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
REAL_REVIEWS = Path("/work/shared/data/amazon2023_all_beauty_5core/All_Beauty.jsonl")
DEMO_DIR = HERE.parent / "src" / "profilerec" / "data" / "demo"
#: What can be measured; "pandas" (chunked reads) is the baseline the target refers to.
IMPLEMENTATIONS = ("profilerec", "streaming", "pandas", "pandas-pyarrow", "pandas-whole")
DEFAULT_IMPLEMENTATIONS = ("profilerec", "pandas", "pandas-pyarrow")
#: pandas ujson lines per read_json chunk.
PANDAS_CHUNK = 100_000
#: Bump when the generator changes, so a stale cached file is not reused.
GENERATOR_VERSION = 1
INTERACTION_COLUMNS = ["user_id", "item_id", "timestamp", "rating", "review_title", "review_text"]
EXAMPLE_COLUMNS = [
    "example_id",
    "user_id",
    "item_id",
    "timestamp",
    "position",
    "history",
    "history_len",
    "split",
]


# --------------------------------------------------------------------------- synthetic data


@dataclass(frozen=True)
class SynthConfig:
    """How the synthetic reviews file is made from the real All_Beauty 5-core records.

    The defaults were tuned so that about 55% of interactions and 47% of users survive
    the 5-core at any ``reviews`` (the catalogue grows with the file), as opposed to the
    ~0.4% of a raw Amazon category, which would leave the later steps nothing to do.
    """

    reviews: int = 2_000_000
    seed: int = 0
    #: Share of users who copy only 1-4 consecutive reviews of their template user.
    casual_users: float = 0.3
    #: One catalogue variant of each real item per this many reviews.
    reviews_per_variant: int = 2500
    #: Variant index = floor(variants * u**skew), u uniform: a power-law popularity tail.
    skew: float = 3.0
    #: Users shift their whole history by up to this many days, then each review by ~6 h.
    shift_days: int = 365
    #: Share of lines that re-review an item later (collapsed to the earliest) ...
    re_reviews: float = 0.015
    #: ... and that repeat a line exactly (same timestamp: the first read is kept).
    exact_duplicates: float = 0.003

    def key(self) -> str:
        return f"amazon2023-synth-v{GENERATOR_VERSION}-n{self.reviews}-seed{self.seed}"


def real_source() -> tuple[Path, Path]:
    """The real reviews and meta files: the shared copy if present, else the packaged demo."""
    if REAL_REVIEWS.is_file():
        return REAL_REVIEWS, REAL_REVIEWS.with_name(f"meta_{REAL_REVIEWS.name}")
    return DEMO_DIR / "All_Beauty.jsonl.gz", DEMO_DIR / "meta_All_Beauty.jsonl.gz"


def synthetic_files(config: SynthConfig, cache: Path = CACHE) -> tuple[Path, Path, dict[str, Any]]:
    """Paths of the cached synthetic reviews and meta files, generating them if absent."""
    folder = cache / config.key()
    reviews, meta = folder / "reviews.jsonl", folder / "meta_reviews.jsonl"
    info_path = folder / "synth.json"  # written last: its presence means the files are complete
    if info_path.is_file():
        return reviews, meta, json.loads(info_path.read_text())
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    info = _generate(config, reviews, meta)
    info["generation_seconds"] = round(time.perf_counter() - started, 1)
    info_path.write_text(json.dumps(info, indent=2))
    return reviews, meta, info


def _generate(config: SynthConfig, reviews_path: Path, meta_path: Path) -> dict[str, Any]:
    import gzip

    import numpy as np
    import orjson

    real_reviews, real_meta = real_source()
    opener: Any = gzip.open if real_reviews.suffix == ".gz" else open
    with opener(real_reviews, "rb") as fh:
        records = [orjson.loads(line) for line in fh if line.strip()]
    with opener(real_meta, "rb") as fh:
        metas = {m["parent_asin"]: m for m in (orjson.loads(line) for line in fh if line.strip())}

    by_user: dict[str, list[int]] = collections.defaultdict(list)
    for i, rec in enumerate(records):
        by_user[rec["user_id"]].append(i)
    templates = [sorted(rows, key=lambda i: records[i]["timestamp"]) for rows in by_user.values()]
    asins = sorted({rec["parent_asin"] for rec in records})
    asin_index = {a: i for i, a in enumerate(asins)}
    real_item = np.array([asin_index[rec["parent_asin"]] for rec in records], dtype=np.int64)
    real_ts = np.array([int(rec["timestamp"]) for rec in records], dtype=np.int64)

    rng = np.random.default_rng(config.seed)
    n_re = round(config.reviews * config.re_reviews)
    n_exact = round(config.reviews * config.exact_duplicates)
    n_base = config.reviews - n_re - n_exact

    # Users, each copying a resampled real user's sequence (casual users: a short window).
    rows: list[int] = []
    owner: list[int] = []
    n_users = 0
    while len(rows) < n_base:
        template = templates[int(rng.integers(len(templates)))]
        if rng.random() < config.casual_users:
            k = int(rng.integers(1, 5))
            start = int(rng.integers(0, len(template) - k + 1))
            template = template[start : start + k]
        rows.extend(template)
        owner.extend([n_users] * len(template))
        n_users += 1
    rec = np.array(rows[:n_base], dtype=np.int64)
    user = np.array(owner[:n_base], dtype=np.int64)

    variants = max(1, config.reviews // config.reviews_per_variant)
    variant = np.floor(variants * rng.random(n_base) ** config.skew).astype(np.int64)
    item = real_item[rec] * variants + variant
    day = 86_400_000
    shift = rng.integers(-config.shift_days * day, config.shift_days * day, n_users)
    ts = real_ts[rec] + shift[user] + np.round(rng.normal(0, day / 4, n_base)).astype(np.int64)

    # Duplicates: re-reviews later in time, and exact repeats of a line.
    again = rng.choice(n_base, n_re, replace=False)
    exact = rng.choice(n_base, n_exact, replace=False)
    later = rng.integers(day, 180 * day, n_re)
    rec = np.concatenate([rec, rec[again], rec[exact]])
    user = np.concatenate([user, user[again], user[exact]])
    item = np.concatenate([item, item[again], item[exact]])
    ts = np.concatenate([ts, ts[again] + later, ts[exact]])
    order = rng.permutation(len(rec))  # raw dumps are not grouped by user
    helpful = rng.geometric(0.6, len(rec)) - 1
    verified = rng.random(len(rec)) < 0.9

    user_ids = _user_ids(rng, n_users)
    item_ids = {int(i): _asin(int(i)) for i in np.unique(item)}
    _write_reviews(
        reviews_path, records, rec, user, item, ts, helpful, verified, order, user_ids, item_ids
    )
    with meta_path.open("wb") as out:
        for synthetic, iid in item_ids.items():
            meta = {k: v for k, v in metas[asins[synthetic // variants]].items()}
            meta.pop("source_row_index", None)
            meta["parent_asin"] = iid
            out.write(orjson.dumps(meta) + b"\n")
    return {
        "config": asdict(config),
        "real_source": str(real_reviews),
        "lines": len(rec),
        "users": n_users,
        "items": len(item_ids),
        "re_reviews": n_re,
        "exact_duplicates": n_exact,
        "bytes": reviews_path.stat().st_size,
        "meta_bytes": meta_path.stat().st_size,
    }


def _write_reviews(
    path: Path,
    records: list[dict[str, Any]],
    rec: Any,
    user: Any,
    item: Any,
    ts: Any,
    helpful: Any,
    verified: Any,
    order: Any,
    user_ids: list[str],
    item_ids: dict[int, str],
    chunk: int = 500_000,
) -> None:
    """The review lines in ``order``, written by polars in chunks (a per-line ``orjson`` loop
    took ~20 min for 20M lines); field order and extra fields as in the raw Amazon-2023 files.
    The bytes equal what ``orjson.dumps`` of each line's dict gives (checked on the 2M file)."""
    import numpy as np
    import polars as pl

    base = pl.DataFrame(
        {k: [r[k] for r in records] for k in ("rating", "title", "text")},
        schema={"rating": pl.Float64, "title": pl.String, "text": pl.String},
    )
    codes = np.array(sorted(item_ids), dtype=np.int64)
    asins = pl.Series([item_ids[int(c)] for c in codes])
    users = pl.Series(user_ids)
    with path.open("wb") as out:
        for lo in range(0, len(order), chunk):
            j = order[lo : lo + chunk]
            iid = asins.gather(np.searchsorted(codes, item[j]))
            frame = base[rec[j]].with_columns(
                pl.Series("images", [[]] * len(j), dtype=pl.List(pl.String)),
                iid.alias("asin"),
                iid.alias("parent_asin"),
                users.gather(user[j]).alias("user_id"),
                pl.Series("timestamp", ts[j], dtype=pl.Int64),
                pl.Series("helpful_vote", helpful[j], dtype=pl.Int64),
                pl.Series("verified_purchase", verified[j], dtype=pl.Boolean),
            )
            frame.write_ndjson(out)


def _user_ids(rng: Any, n: int) -> list[str]:
    """28-character upper-case ids shaped like the real ones ("AE" + 26 base-32 symbols)."""
    import numpy as np

    alphabet = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", dtype=np.uint8)
    body = alphabet[rng.integers(0, 32, size=(n, 26))].copy().view("S26").ravel()
    return ["AE" + b.decode() for b in body]


def _asin(index: int) -> str:
    """A 10-character ASIN-like id; the multiplier is coprime to 36**8, so ids never collide."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    n, out = (index * 2_654_435_761) % 36**8, []
    for _ in range(8):
        n, r = divmod(n, 36)
        out.append(digits[r])
    return "B0" + "".join(reversed(out))


# --------------------------------------------------------------------------- implementations


def run_profilerec(
    reviews: Path, out: Path, k: int, max_history: int, engine: str = "memory", limit: str = "4GB"
) -> dict[str, Any]:
    from profilerec.data.prepare import PrepareConfig, prepare
    from profilerec.data.splits import SplitConfig

    config = PrepareConfig(
        k_core=k, split=SplitConfig(max_history=max_history), engine=engine, memory_limit=limit
    )
    started = time.perf_counter()
    phases: list[tuple[str, float]] = []

    def progress(phase: str) -> None:  # the streaming engine's phases, timed, on stderr
        phases.append((phase, round(time.perf_counter() - started, 1)))
        print(
            f"    {phases[-1][1]:>7.1f} s  RSS {_rss_text()}  {phase}", file=sys.stderr, flush=True
        )

    manifest = prepare(reviews, out, config, progress)
    seconds = time.perf_counter() - started
    counts = manifest["counts"]
    return {
        "seconds": seconds,
        "reviews_read": counts["interactions_read"],
        "duplicates_collapsed": counts["duplicates_collapsed"],
        "users": counts["users"],
        "items": counts["items"],
        "interactions": counts["interactions"],
        "examples": dict(sorted(counts["examples"].items())),
        "engine": manifest["engine"],
        "phases": phases,
    }


def read_json_pandas(path: Path, reader: str, columns: list[str]) -> Any:
    """A JSONL file as a DataFrame of ``columns``, read the way a pandas user would.

    ``chunked``: the default (ujson) parser with ``chunksize``, the documented way to keep
    memory bounded; ``pyarrow``: ``engine="pyarrow"``; ``whole``: one plain call, which
    peaks at roughly 14x the file size. ``dtype=False`` keeps parsed types: otherwise
    pandas turns the ``timestamp`` column into datetimes.
    """
    import pandas as pd

    if reader == "pyarrow":
        return pd.read_json(path, lines=True, engine="pyarrow")[columns]
    if reader == "whole":
        return pd.read_json(path, lines=True, dtype=False)[columns]
    chunks = pd.read_json(path, lines=True, dtype=False, chunksize=PANDAS_CHUNK)
    return pd.concat([chunk.reindex(columns=columns) for chunk in chunks], ignore_index=True)


def _rss_text() -> str:
    """This process's resident set now (Linux), for the phase log."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return _common.human_bytes(int(line.split()[1]) * 1024)
    return "?"


def run_pandas(reviews: Path, out: Path, k: int, max_history: int, reader: str) -> dict[str, Any]:
    """The same stage as a pandas user would write it: whole-frame ops, groupby, to_parquet."""
    import numpy as np

    started = time.perf_counter()
    wanted = ["user_id", "parent_asin", "timestamp", "rating", "title", "text"]
    df = read_json_pandas(reviews, reader, wanted)
    n_read = len(df)
    df = df.rename(
        columns={"parent_asin": "item_id", "title": "review_title", "text": "review_text"}
    )
    df["review_title"] = df["review_title"].fillna("")
    df["review_text"] = df["review_text"].fillna("")
    df["rating"] = df["rating"].astype("float64")
    df["timestamp"] = df["timestamp"].astype("int64")

    # Earliest review of each (user, item); a stable sort keeps the first line on ties.
    df = df.sort_values("timestamp", kind="stable")
    df = df.drop_duplicates(["user_id", "item_id"], keep="first")
    n_dedup = len(df)

    while True:  # iterative k-core
        before = len(df)
        user_n = df.groupby("user_id")["item_id"].transform("size")
        item_n = df.groupby("item_id")["user_id"].transform("size")
        df = df[(user_n >= k) & (item_n >= k)]
        if len(df) == before:
            break
    df = df.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)

    ex = df[["user_id", "item_id", "timestamp"]].copy()
    ex["position"] = df.groupby("user_id").cumcount().astype("int32")
    n_user = df.groupby("user_id")["item_id"].transform("size")
    # Items sharing the target's timestamp are not history: stop at that timestamp's first row.
    ex["history_len"] = ex.groupby(["user_id", "timestamp"])["position"].transform("min")
    ex["history_len"] = ex["history_len"].astype("int32")
    items = df["item_id"].tolist()
    # Rows are sorted by user, so row number - position is the user's first row.
    first_row = (np.arange(len(df)) - ex["position"].to_numpy()).tolist()
    ex["history"] = [
        items[s + max(0, h - max_history) if max_history else s : s + h]
        for s, h in zip(first_row, ex["history_len"].tolist(), strict=True)
    ]
    ex["split"] = np.select(
        [ex["position"] == n_user - 1, ex["position"] == n_user - 2], ["test", "valid"], "train"
    )
    ex = ex[ex["history_len"] >= 1].reset_index(drop=True)
    ex["example_id"] = np.arange(len(ex), dtype=np.int64)
    ex = ex[EXAMPLE_COLUMNS]

    items_table = _pandas_items(reviews.with_name(f"meta_{reviews.name}"), df["item_id"])
    out.mkdir(parents=True, exist_ok=True)
    items_table.to_parquet(out / "items.parquet", index=False)
    df[INTERACTION_COLUMNS].to_parquet(out / "interactions.parquet", index=False)
    ex.to_parquet(out / "examples.parquet", index=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "reviews_read": n_read,
        "duplicates_collapsed": n_read - n_dedup,
        "users": int(df["user_id"].nunique()),
        "items": len(items_table),
        "interactions": len(df),
        "examples": {str(k): int(v) for k, v in sorted(ex["split"].value_counts().items())},
    }


def _pandas_items(meta_path: Path, item_ids: Any) -> Any:
    """Catalogue of interacted items joined to their metadata (placeholders when absent).

    Always the chunked default parser: pyarrow turns ``details`` into a struct of every key
    seen in the file, which would need undoing.
    """
    import pandas as pd

    columns = ["parent_asin", "title", "description", "price", "details"]
    meta = read_json_pandas(meta_path, "chunked", columns).rename(
        columns={"parent_asin": "item_id"}
    )
    meta = meta.drop_duplicates("item_id")
    catalogue = pd.DataFrame({"item_id": sorted(item_ids.unique())})
    items = catalogue.merge(meta, on="item_id", how="left", indicator=True)

    def text(value: Any) -> str:
        return "\n".join(value) if isinstance(value, list) else (value or "")

    details = items["details"]
    return pd.DataFrame(
        {
            "item_id": items["item_id"],
            "title": items["title"].map(text),
            "description": items["description"].map(text),
            "store": details.map(lambda d: d.get("Brand", "") if isinstance(d, dict) else ""),
            "price": pd.to_numeric(items["price"], errors="coerce"),
            "details": details.map(
                lambda d: json.dumps(d, ensure_ascii=False, sort_keys=True) if d else ""
            ),
            "has_meta": items["_merge"] == "both",
        }
    )


# --------------------------------------------------------------------------- comparison


def compare_outputs(a: Path, b: Path) -> list[str]:
    """Differences between two output folders' interactions, examples and item ids ([] = same).

    Rows are compared in file order first; if only the order differs that is reported
    rather than hidden behind a sort.
    """
    import polars as pl

    problems = []
    for name, key in (
        ("interactions.parquet", ["user_id", "timestamp", "item_id"]),
        ("examples.parquet", ["example_id"]),
        ("items.parquet", ["item_id"]),
    ):
        cols = ["item_id"] if name == "items.parquet" else None
        left = pl.read_parquet(a / name, columns=cols)
        right = pl.read_parquet(b / name, columns=cols)
        if left.columns != right.columns:
            problems.append(f"{name}: columns {left.columns} vs {right.columns}")
            continue
        right = right.cast(dict(left.schema))  # e.g. pandas writes large_string
        if left.equals(right):
            continue
        if left.sort(key).equals(right.sort(key)):
            problems.append(f"{name}: same rows, different order")
            continue
        only_left = left.join(right, on=left.columns, how="anti", nulls_equal=True).height
        only_right = right.join(left, on=left.columns, how="anti", nulls_equal=True).height
        problems.append(f"{name}: {only_left} rows only in {a.name}, {only_right} only in {b.name}")
    return problems


# --------------------------------------------------------------------------- driver


def child_main(args: argparse.Namespace) -> None:
    """Inside the measured process: run one implementation, print its result as JSON."""
    reviews, out = Path(args.source), Path(args.out)
    if args.child == "streaming":
        result = run_profilerec(
            reviews, out, args.k_core, args.max_history, "streaming", args.memory_limit
        )
    elif args.child == "profilerec":
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(run_profilerec, reviews, out, args.k_core, args.max_history)
            profiler.dump_stats(args.profile)
        else:
            result = run_profilerec(reviews, out, args.k_core, args.max_history)
    else:
        reader = {"pandas": "chunked", "pandas-pyarrow": "pyarrow", "pandas-whole": "whole"}
        result = run_pandas(reviews, out, args.k_core, args.max_history, reader[args.child])
    print(json.dumps(result))


def measure(impl: str, reviews: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", impl]
    argv += ["--source", str(reviews), "--out", str(out), "--k-core", str(args.k_core)]
    argv += ["--max-history", str(args.max_history), "--memory-limit", args.memory_limit]
    if args.profile and impl == "profilerec":
        argv += ["--profile", args.profile]
    print(f"running {impl} ...", file=sys.stderr, flush=True)
    run = _common.run_child(argv)
    if run.returncode != 0:
        raise SystemExit(f"{impl} failed with exit code {run.returncode}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    result |= {"wall_seconds": run.wall_seconds, "cpu_seconds": run.cpu_seconds}
    result["peak_rss_bytes"] = run.peak_rss_bytes
    peak = _common.human_bytes(run.peak_rss_bytes)
    print(
        f"  {impl}: {result['seconds']:.1f} s, {run.cpu_seconds:.1f} CPU s, peak RSS {peak}",
        file=sys.stderr,
        flush=True,
    )
    return result


def warm_page_cache(*paths: Path) -> None:
    """Read the inputs once so no implementation pays (or gains from) the first disk read."""
    for path in paths:
        with path.open("rb") as fh:
            while fh.read(1 << 24):
                pass


def check_memory(impls: list[str], info: dict[str, Any]) -> None:
    """Refuse ``pandas-whole`` when it would not fit: on a shared box the OOM killer may pick
    someone else's process."""
    if "pandas-whole" not in impls:
        return
    need = 15 * info["bytes"]
    available = _common.memory_available()
    if available is not None and need > available:
        raise SystemExit(
            f"pandas-whole needs about {_common.human_bytes(need)} but only "
            f"{_common.human_bytes(available)} is available; use fewer --reviews"
        )


LABELS = {
    "profilerec": "profilerec",
    "streaming": "profilerec --engine streaming",
    "pandas": f"pandas, read_json(chunksize={PANDAS_CHUNK:,})",
    "pandas-pyarrow": 'pandas, read_json(engine="pyarrow")',
    "pandas-whole": "pandas, read_json (one call)",
}


def report(
    args: argparse.Namespace, info: dict[str, Any], results: dict[str, Any], machine: dict[str, str]
) -> str:
    ours = results.get("profilerec") or next(iter(results.values()))
    n = ours["reviews_read"]
    rows = [
        [
            LABELS[impl],
            f"{r['seconds']:.1f} s",
            f"{n / r['seconds']:,.0f}",
            f"{r['wall_seconds']:.1f} s",
            f"{r['cpu_seconds']:.1f} s",
            _common.human_bytes(r["peak_rss_bytes"]),
        ]
        for impl, r in results.items()
    ]
    for impl, r in results.items():
        if r is not ours:
            rows.append(
                [
                    f"ratio profilerec / {impl}",
                    "",
                    f"{r['seconds'] / ours['seconds']:.2f}x",
                    "",
                    f"{ours['cpu_seconds'] / r['cpu_seconds']:.2f}x",
                    f"{ours['peak_rss_bytes'] / r['peak_rss_bytes']:.2f}x",
                ]
            )
    headers = ["implementation", "time (stage)", "reviews/s", "process wall", "process CPU"]
    table = _common.markdown_table([*headers, "peak RSS"], rows)
    verdict = ""
    if "pandas" in results:
        base = results["pandas"]
        speed = base["seconds"] / ours["seconds"]
        memory = ours["peak_rss_bytes"] / base["peak_rss_bytes"]
        met = speed >= 5 and memory < 1
        verdict = (
            "Target (profilerec at least 5x the throughput of `pandas` and a lower peak RSS): "
            f"**{'met' if met else 'not met'}** ({speed:.2f}x throughput, {memory:.2f}x peak RSS)."
        )
    examples = ours["examples"]
    split_text = ", ".join(f"{k} {v:,}" for k, v in examples.items())
    counts = _common.markdown_table(
        ["reviews read", "duplicates collapsed", "users", "items", "interactions", "examples"],
        [
            [
                f"{ours['reviews_read']:,}",
                f"{ours['duplicates_collapsed']:,}",
                f"{ours['users']:,}",
                f"{ours['items']:,}",
                f"{ours['interactions']:,}",
                f"{sum(examples.values()):,} ({split_text})",
            ]
        ],
    )
    agreement = "; ".join(results_differences(results)) or "yes"
    if len(results) == 1:
        agreement = "not compared (one implementation ran)"
    packages = ["polars", "duckdb", "pandas", "pyarrow", "orjson", "numpy", "profilerec"]
    version_text = ", ".join(f"{k} {v}" for k, v in _common.versions(packages).items())
    seed = info["config"]["seed"]
    heading = "prepare: reviews JSONL to 5-core leave-last-out Parquet"
    if args.section != "prepare":
        heading = f"prepare out of core: {n:,} reviews, in-memory vs streaming engine"
    pandas_text = f"""What runs: `profilerec.data.prepare.prepare(source, out, PrepareConfig(k_core={args.k_core},
split=SplitConfig(max_history={args.max_history})))` against the same work in plain pandas
(`benchmarks/prepare.py::run_pandas`: `pd.read_json(lines=True)`, stable sort +
`drop_duplicates`, a `groupby().transform("size")` k-core loop, `cumcount` positions, histories
sliced from each user's item list, `to_parquet`), once with pandas' default JSON parser in
chunks of {PANDAS_CHUNK:,} lines (the baseline; one unchunked call would need ~14x the file
size in RAM) and once with `engine="pyarrow"`."""
    if not any(i.startswith("pandas") for i in results):
        pandas_text = (
            "What runs: `profilerec.data.prepare.prepare(source, out, "
            f"PrepareConfig(k_core={args.k_core}, split=SplitConfig(max_history="
            f"{args.max_history}), engine=...))` with each engine."
        )
    what = f"""{pandas_text} Each runs once, in a fresh process. "time
(stage)" is timed inside it around the call, and reviews/s comes from it; "process wall" adds
interpreter start and imports; "process CPU" is user + system time over all threads (steadier
than wall time when other jobs share the cores, but multithreaded code pays for every thread);
peak RSS is the process's own high-water mark (`os.wait4`). In the ratio rows, reviews/s is
the other's time over profilerec's (higher is better for profilerec); CPU and peak RSS are
profilerec's over the other's (lower is better). All write items, interactions and examples;
profilerec also SHA-256-hashes its sources for the manifest."""
    return f"""## {heading}

{what}
{streaming_text(args, results, info)}

Input: {info["lines"]:,} synthetic Amazon-2023 review lines ({_common.human_bytes(info["bytes"])})
and {info["items"]:,} meta lines, generated (seed {seed}, cached under `benchmarks/.cache/`)
from the real All_Beauty 5-core records: {info["users"]:,} users each replay a resampled real
user's reviews (30% only a window of 1-4) with the real titles, texts and ratings and the raw
file's other fields; items are re-keyed into catalogue variants with a power-law popularity
tail; timestamps are shifted per user and jittered per review; {info["re_reviews"]:,} later
re-reviews and {info["exact_duplicates"]:,} exact repeat lines are mixed in; lines are shuffled.

{table}

{verdict}

Outputs identical (interactions and examples row for row, item ids): {agreement}

{counts}

- Date: {_common.today()}
- Command: `{_common.command_line()}`
{_common.facts_list(machine)}
- load average at end: {", ".join(f"{x:.2f}" for x in os.getloadavg())}
- Versions: {version_text}
"""


def streaming_text(args: argparse.Namespace, results: dict[str, Any], info: dict[str, Any]) -> str:
    if "streaming" not in results:
        return ""
    steps = results["streaming"]["phases"]
    rounds = [t for name, t in steps if name.startswith("k-core round")]
    named = [f"{name} at {t:.0f} s" for name, t in steps if not name.startswith("k-core round")]
    if rounds:  # one entry for the whole k-core loop, where it began
        at = next(i for i, (name, _) in enumerate(steps) if name.startswith("k-core round"))
        named.insert(at, f"{len(rounds)} k-core rounds from {rounds[0]:.0f} s")
    phases = ", ".join(named)
    return (
        "\n`profilerec --engine streaming` is the out-of-core engine "
        "(`profilerec/data/outofcore.py`: JSONL blocks parsed by polars into Parquet, then DuckDB "
        f"with `memory_limit={args.memory_limit}`, 2 threads, spilling to a folder beside the "
        "output) on the same input and flags. Wall times are not comparable between rows when "
        "the load average is far above the 2 cores (see below); process CPU is steadier.\n\n"
        f"Phases of the streaming run (time since the call): {phases}.\n"
        + ("" if "profilerec" in results else _skipped_memory_text(info))
    )


#: Peak RSS over JSONL size of the in-memory engine, measured on the 2M file (3.80 / 1.51 GiB).
MEMORY_ENGINE_RATIO = 2.5


def _skipped_memory_text(info: dict[str, Any]) -> str:
    need = _common.human_bytes(MEMORY_ENGINE_RATIO * info["bytes"])
    return (
        "\nThe in-memory engine was not run on this file: it peaks at about "
        f"{MEMORY_ENGINE_RATIO}x the JSONL size (section `prepare-streaming`), about {need} "
        "here, more than this 23.5 GiB machine, which other jobs share (the OOM killer could "
        "pick one of theirs); under `--engine auto` a file this size goes to the streaming "
        "engine.\n"
    )


def results_differences(results: dict[str, Any]) -> list[str]:
    return [f"{impl}: {d}" for impl, r in results.items() for d in r.get("differences", [])]


def parent_main(args: argparse.Namespace) -> None:
    impls = ["profilerec", *[i for i in args.implementations.split(",") if i != "profilerec"]]
    if args.only:  # e.g. 20M reviews: the in-memory path would need ~2.7x the file in RAM
        impls = [args.only]
    unknown = [i for i in impls if i not in IMPLEMENTATIONS]
    if unknown:
        raise SystemExit(f"unknown implementation(s) {unknown}; choose from {IMPLEMENTATIONS}")
    machine = _common.machine()
    config = SynthConfig(reviews=args.reviews, seed=args.seed)
    print(f"synthetic data: {config.key()}", file=sys.stderr, flush=True)
    reviews, meta, info = synthetic_files(config)
    check_memory(impls, info)
    warm_page_cache(reviews, meta)
    outputs = CACHE / "out"
    results = {impl: measure(impl, reviews, outputs / impl, args) for impl in impls}
    counted = ("reviews_read", "duplicates_collapsed", "users", "items", "interactions", "examples")
    ours = results[impls[0]]
    for impl in impls[1:]:
        theirs = results[impl]
        theirs["differences"] = [
            f"{k} {ours[k]} vs {theirs[k]}" for k in counted if ours[k] != theirs[k]
        ]
        theirs["differences"] += compare_outputs(outputs / impls[0], outputs / impl)
    text = report(args, info, results, machine)
    print(text)
    if not args.no_doc:
        _common.write_section(args.section, text)
        print(f"wrote section {args.section!r} of {_common.DOC}", file=sys.stderr)
    if not args.keep_outputs:
        shutil.rmtree(outputs, ignore_errors=True)
    differences = results_differences(results)
    if differences:
        raise SystemExit("the implementations disagree: " + "; ".join(differences))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=2_000_000, help="synthetic review lines")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument("--k-core", type=int, default=5)
    parser.add_argument("--max-history", type=int, default=20)
    parser.add_argument(
        "--implementations",
        default=",".join(DEFAULT_IMPLEMENTATIONS),
        help=f"comma-separated, from {', '.join(IMPLEMENTATIONS)} (profilerec always runs)",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--section", default="prepare", help="section of docs/benchmarks.md")
    parser.add_argument("--memory-limit", default="4GB", help="the streaming engine's limit")
    parser.add_argument("--only", choices=IMPLEMENTATIONS, help="run just this implementation")
    parser.add_argument("--keep-outputs", action="store_true", help="keep benchmarks/.cache/out")
    parser.add_argument("--profile", help="write a cProfile of the profilerec run to this path")
    parser.add_argument("--child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reviews < 1000:
        parser.error("--reviews must be at least 1000")
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
