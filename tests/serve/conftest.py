"""A real uvicorn server on 127.0.0.1 (a free port) around the tiny test models."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from profilerec.llm.base import GenerationConfig, Messages


@contextmanager
def running(app: object, wait_for: str = "/ready") -> Iterator[str]:
    """Serves ``app`` in a thread; yields its base URL once ``wait_for`` answers 200
    (``/health`` to test the server while it loads)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}{wait_for}", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not become ready")
        time.sleep(0.1)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class GatedGenerator:
    """Wraps a generator so each call waits for ``gate``: lets a test hold a generation in flight."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.model_id = f"gated:{inner.model_id}"  # type: ignore[attr-defined]
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        self.started.set()
        if not self.gate.wait(timeout=60):
            raise RuntimeError("gate never opened")
        return self.inner.generate(prompts, config)  # type: ignore[attr-defined]


#: The methods of the served evaluation: every kind the registry has (SASRec for a few
#: epochs: the test is of parity, not of SASRec's quality).
EVALUATED = ("popularity", "itemknn", "sasrec", "history_text", "mean_history", "hybrid")


@pytest.fixture(scope="session")
def tiny_profiles(
    demo_dataset: Path, tiny_lm_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A real profile set written by the tiny generator for every valid and test example
    (validation: the hybrid's weight is tuned on it)."""
    from profilerec.data.dataset import Dataset
    from profilerec.llm import load_generator
    from profilerec.profile.stage import ProfileConfig, run_profile

    out = tmp_path_factory.mktemp("serve_profiles") / "zero_shot"
    gen = load_generator(f"transformers:{tiny_lm_dir}", batch_size=64)
    config = ProfileConfig(
        splits=("valid", "test"), batch_size=64, generation=GenerationConfig(max_new_tokens=8)
    )
    run_profile(Dataset.load(demo_dataset), gen, out, config, progress=False)
    return out


@pytest.fixture(scope="session")
def serve_parts(
    demo_dataset: Path,
    tiny_lm_dir: Path,
    tiny_st_dir: Path,
    tiny_profiles: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, object]:
    from profilerec.embed import load_embedder
    from profilerec.llm import load_generator

    gen = GatedGenerator(load_generator(f"transformers:{tiny_lm_dir}"))
    emb = load_embedder(
        f"sentence-transformers:{tiny_st_dir}", cache_dir=tmp_path_factory.mktemp("emb")
    )
    return {
        "dataset": demo_dataset,
        "generator": gen,
        "embedder": emb,
        "profiles": {"zs": tiny_profiles},
    }


@pytest.fixture(scope="session")
def evaluation(serve_parts: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``evaluate`` of the demo with the tiny profile set: what the server then serves."""
    import polars as pl

    from profilerec.data.dataset import Dataset
    from profilerec.evaluate.stage import EvaluateConfig, run_evaluate

    out = tmp_path_factory.mktemp("serve_eval") / "eval"
    profiles = pl.read_parquet(serve_parts["profiles"]["zs"] / "profiles.parquet")  # type: ignore[index, operator]
    config = EvaluateConfig(
        methods=EVALUATED, tune=False, bootstrap=10, baseline_params={"sasrec": {"epochs": 3}}
    )
    run_evaluate(
        Dataset.load(serve_parts["dataset"]),  # type: ignore[arg-type]
        serve_parts["embedder"],  # type: ignore[arg-type]
        out,
        config,
        {"zs": profiles},
        progress=False,
    )
    return out


@pytest.fixture(scope="session")
def state(serve_parts: dict[str, object], evaluation: Path) -> object:
    from profilerec.serve.load import build_state

    return build_state(
        serve_parts["dataset"],  # type: ignore[arg-type]
        serve_parts["embedder"],  # type: ignore[arg-type]
        profiles=serve_parts["profiles"],  # type: ignore[arg-type]
        generator=serve_parts["generator"],  # type: ignore[arg-type]
        evaluation=evaluation,
    )


@pytest.fixture(scope="session")
def run_app() -> object:
    """``running`` as a fixture, for tests that start their own app."""
    return running


@pytest.fixture(scope="module")
def server(state: object) -> Iterator[str]:
    """The app with an API key and a one-slot generation queue, on a real port."""
    from profilerec.serve.app import create_app

    with running(
        create_app(lambda: state, api_key="sesame", queue_capacity=1, max_body=64 * 1024)
    ) as base:  # type: ignore[arg-type, return-value]
        yield base
