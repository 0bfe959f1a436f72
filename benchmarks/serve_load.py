"""Load test of ``profilerec serve``: 16 asyncio clients for 30 s, GET only, then mixed with POST profiles.

Starts the real server (bundled SmolLM2 + MiniLM by default) in its own process on a free
port, waits for /ready, and samples that process's RSS once a second. A 503 from the
bounded generation queue is back-pressure, counted apart: the client waits Retry-After and
tries again. Every other non-2xx answer or transport failure is an error.

    .venv/bin/python benchmarks/serve_load.py --dataset runs/shared/data/beauty \
        --profiles zero_shot=runs/shared/profiles/beauty/zero_shot
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

KEY = "load-test-key"


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    status: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    backpressure: int = 0

    def add(self, kind: str, seconds: float, code: int) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.status[code] = self.status.get(code, 0) + 1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def get_client(
    c: httpx.AsyncClient,
    users: list[str],
    methods: list[str],
    stop: float,
    st: Stats,
    rng: random.Random,
) -> None:
    while time.monotonic() < stop:
        path = f"/v1/users/{rng.choice(users)}/recommendations"
        t = time.perf_counter()
        try:
            r = await c.get(path, params={"k": 10, "method": rng.choice(methods)})
            st.add("GET recommendations", time.perf_counter() - t, r.status_code)
        except httpx.TransportError:
            st.transport_errors += 1


async def post_client(
    c: httpx.AsyncClient, items: list[str], stop: float, st: Stats, rng: random.Random
) -> None:
    while time.monotonic() < stop:
        history = rng.sample(items, 5)
        t = time.perf_counter()
        try:
            r = await c.post("/v1/profiles", json={"history": history}, headers={"X-API-Key": KEY})
        except httpx.TransportError:
            st.transport_errors += 1
            continue
        if r.status_code == 503:
            st.backpressure += 1
            await asyncio.sleep(
                min(float(r.headers.get("Retry-After", "1")), max(0.0, stop - time.monotonic()))
            )
            continue
        st.add("POST profiles", time.perf_counter() - t, r.status_code)


async def phase(
    base: str, pid: int, seconds: float, clients: int, posters: int
) -> dict[str, object]:
    proc = psutil.Process(pid)
    async with httpx.AsyncClient(
        base_url=base, timeout=120, limits=httpx.Limits(max_connections=clients + 4)
    ) as c:
        users = (await c.get("/v1/users", params={"limit": 1000})).json()["users"]
        methods = (await c.get("/v1/methods")).json()["user_methods"]
        items = [
            (await c.get(f"/v1/users/{u}")).json()["history"][0]["item_id"] for u in users[:50]
        ]
        st = Stats()
        rss: list[float] = []
        stop = time.monotonic() + seconds

        async def sample() -> None:
            while time.monotonic() < stop:
                rss.append(proc.memory_info().rss / 2**20)
                await asyncio.sleep(1)

        rngs = [random.Random(i) for i in range(clients)]
        tasks = [get_client(c, users, methods, stop, st, rngs[i]) for i in range(clients - posters)]
        tasks += [
            post_client(c, items, stop, st, rngs[i]) for i in range(clients - posters, clients)
        ]
        start = time.monotonic()
        await asyncio.gather(sample(), *tasks)
        wall = time.monotonic() - start
    rows = {}
    for kind, lat in st.latencies.items():
        rows[kind] = {
            "n": len(lat),
            "per_s": len(lat) / seconds,  # over the window: a POST started in it may end after it
            "p50_ms": pct(lat, 0.5),
            "p99_ms": pct(lat, 0.99),
            "mean_ms": statistics.fmean(lat) * 1000,
        }
    errors = sum(n for code, n in st.status.items() if not 200 <= code < 300) + st.transport_errors
    return {
        "wall_s": wall,
        "rows": rows,
        "status": st.status,
        "errors": errors,
        "backpressure_503": st.backpressure,
        "rss_mb": {"first": rss[0], "last": rss[-1], "max": max(rss)},
        # RSS at each quarter of the run: steady memory is a flat tail after the first
        # generation's one-off allocator growth, which first/last alone cannot show.
        "rss_quarters": [rss[min(len(rss) - 1, len(rss) * q // 4)] for q in (1, 2, 3, 4)],
        "methods": methods,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--profiles", action="append", default=[], help="NAME=DIR (repeatable)")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument(
        "--mixed-seconds",
        type=float,
        help="length of the mixed run (default --seconds): long enough for many generations "
        "shows whether memory levels off",
    )
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument(
        "--posters", type=int, default=2, help="clients sending POST /v1/profiles in the mixed run"
    )
    ap.add_argument("--generator", default="transformers")
    ap.add_argument("--embedder", default="sentence-transformers")
    args = ap.parse_args()
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "profilerec.cli",
        "serve",
        str(args.dataset),
        "--port",
        str(port),
        "--generator",
        args.generator,
        "--embedder",
        args.embedder,
        "--api-key-env",
        "PROFILEREC_LOAD_KEY",
    ]
    for p in args.profiles:
        cmd += ["--profiles", p]
    import os

    log = open("/tmp/serve_load_server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        cmd, env={**os.environ, "PROFILEREC_LOAD_KEY": KEY}, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        t0 = time.monotonic()
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise SystemExit(
                    f"server exited with {server.returncode}; see /tmp/serve_load_server.log"
                )
            time.sleep(0.5)
        print(f"server ready after {time.monotonic() - t0:.1f} s", flush=True)
        results = {}
        for name, posters, seconds in (
            ("GET only", 0, args.seconds),
            (f"mixed ({args.posters} POST clients)", args.posters, args.mixed_seconds),
        ):
            results[name] = asyncio.run(
                phase(base, server.pid, seconds or args.seconds, args.clients, posters)
            )
        print(
            f"\n{args.clients} clients; GET-only run {args.seconds:.0f} s, mixed run "
            f"{args.mixed_seconds or args.seconds:.0f} s; server RSS sampled each second\n"
        )
        print(
            "| run | request | n | req/s | p50 ms | p99 ms | errors (non-2xx except queue 503) | queue 503s | RSS MiB first / last / max |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name, res in results.items():
            rss = res["rss_mb"]
            for kind, row in res["rows"].items():  # type: ignore[attr-defined]
                print(
                    f"| {name} | {kind} | {row['n']} | {row['per_s']:.1f} | {row['p50_ms']:.0f} | {row['p99_ms']:.0f} | "
                    f"{res['errors']} | {res['backpressure_503']} | {rss['first']:.0f} / {rss['last']:.0f} / {rss['max']:.0f} |"
                )  # type: ignore[index]
        for name, res in results.items():
            print(f"{name}: status codes {res['status']}, methods {res['methods']}")
            quarters = " / ".join(f"{x:.0f}" for x in res["rss_quarters"])  # type: ignore[attr-defined]
            print(f"{name}: server RSS MiB at 25 / 50 / 75 / 100% of the run: {quarters}")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
