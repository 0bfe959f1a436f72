"""The ``make vllm-server`` recipe through the ``openai:`` backend on the bundled model (slow).

Needs ``.venv-vllm`` (``make vllm-venv``); the server takes about two minutes to start on
2 cores. Run with ``make test-scale``.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from profilerec.llm.base import GenerationConfig

REPO = Path(__file__).resolve().parents[2]
VLLM_PYTHON = REPO / ".venv-vllm" / "bin" / "python"
PORT = 8419

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not VLLM_PYTHON.is_file(), reason="no .venv-vllm (make vllm-venv)"),
]


@pytest.fixture(scope="module")
def vllm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from profilerec.llm.bundled import bundled_smollm2_dir
    from profilerec.llm.vllm import server_argv

    log = (tmp_path_factory.mktemp("vllm") / "server.log").open("w")
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    server = subprocess.Popen(
        server_argv(VLLM_PYTHON, bundled_smollm2_dir(), PORT),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{PORT}/v1"
    try:
        deadline = time.monotonic() + 600
        while True:
            assert server.poll() is None, f"vllm server exited; log: {log.name}"
            assert time.monotonic() < deadline, "vllm server did not start in 600 s"
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a server still starting may ignore SIGTERM
            server.kill()
            server.wait(timeout=60)
        log.close()


def test_openai_backend_profiles_demo_users_through_the_server(
    vllm_url: str, demo_dataset: Path
) -> None:
    from profilerec.data.dataset import Dataset
    from profilerec.llm import load_generator
    from profilerec.llm.prompts import load_template
    from profilerec.profile.prompts import HistoryFormat, build_prompts

    ds = Dataset.load(demo_dataset)
    prompts = build_prompts(
        ds, ds.split("test").sort("example_id").head(6), load_template("profile"), HistoryFormat()
    )
    gen = load_generator(f"openai:smollm2@{vllm_url}")
    config = GenerationConfig(max_new_tokens=24)
    first = gen.generate(prompts, config)
    assert len(first) == 6 and all(t.strip() for t in first)
    assert gen.generate(prompts, config) == first  # greedy through the server is repeatable
    assert len(set(first)) > 1  # different users, different profiles
