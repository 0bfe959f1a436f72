from __future__ import annotations

import socket
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import pytest

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Messages
from profilerec.llm.openai_compat import OpenAIGenerator
from profilerec.llm.seeds import request_seed

CONFIG = GenerationConfig(
    max_new_tokens=20, temperature=0.7, top_p=0.9, repetition_penalty=1.2, seed=5
)
Server = Callable[..., Any]


def chat(text: str) -> Messages:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


PROMPTS = [chat(f"prompt {i}") for i in range(6)]


def generator(server: Any, **kwargs: Any) -> OpenAIGenerator:
    kwargs.setdefault("backoff", 0.01)
    return OpenAIGenerator("tiny-model", server.base_url, **kwargs)


def chat_bodies(server: Any) -> list[dict[str, Any]]:
    return [body for path, body in server.requests if path == "/v1/chat/completions"]


def test_completions_come_back_in_prompt_order(
    openai_server: Server, server_module: ModuleType
) -> None:
    server = openai_server(delay_first=-1, delay=0.05)
    texts = generator(server, concurrency=3).generate(PROMPTS, CONFIG)
    assert texts == [f"tiny-model says: prompt {i}" for i in range(6)]
    assert texts == [server_module.reply_for("tiny-model", p) for p in PROMPTS]


def test_settings_and_seeds_are_passed_through(
    openai_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    prompts = [chat("a"), chat("b"), chat("a")]
    server = openai_server()
    generator(server, concurrency=1).generate(prompts, CONFIG)
    bodies = chat_bodies(server)
    assert [b["messages"] for b in bodies] == prompts
    for body in bodies:
        assert body["model"] == "tiny-model"
        assert body["max_tokens"] == 20
        assert body["temperature"] == 0.7
        assert body["top_p"] == 0.9
        assert body["repetition_penalty"] == 1.2
    seeds = [b["seed"] for b in bodies]
    # The repeated prompt gets its own seed per copy; reruns give the same seeds.
    assert seeds == [
        request_seed(5, prompts[0], 0),
        request_seed(5, prompts[1], 0),
        request_seed(5, prompts[0], 1),
    ]
    assert len(set(seeds)) == 3
    assert all(0 <= s < 2**31 for s in seeds)
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


def test_no_api_key_sends_no_authorization(
    openai_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = openai_server()
    generator(server).generate(PROMPTS[:1], CONFIG)
    assert "Authorization" not in server.headers[0]


def test_repetition_penalty_can_be_left_out_for_strict_servers(openai_server: Server) -> None:
    server = openai_server()
    generator(server, send_repetition_penalty=False).generate(PROMPTS[:1], CONFIG)
    assert "repetition_penalty" not in chat_bodies(server)[0]


def test_concurrency_is_bounded_and_used(openai_server: Server) -> None:
    server = openai_server(delay_first=-1, delay=0.2)
    generator(server, concurrency=2).generate(PROMPTS, CONFIG)
    assert server.max_in_flight == 2


def test_server_errors_are_retried(openai_server: Server, server_module: ModuleType) -> None:
    server = openai_server(fail_first=2, fail_status=500)
    texts = generator(server, concurrency=1).generate(PROMPTS[:2], CONFIG)
    assert texts == [server_module.reply_for("tiny-model", p) for p in PROMPTS[:2]]
    # Two failed attempts at the first prompt, then one request each.
    assert [b["messages"] for b in chat_bodies(server)] == [PROMPTS[0]] * 3 + [PROMPTS[1]]


def test_rate_limit_honours_retry_after(openai_server: Server) -> None:
    server = openai_server(fail_first=1, fail_status=429, retry_after="0.3")
    start = time.monotonic()
    texts = generator(server, backoff=0.0).generate(PROMPTS[:1], CONFIG)
    assert time.monotonic() - start >= 0.3
    assert texts == ["tiny-model says: prompt 0"]
    assert len(server.requests) == 2


def test_timeouts_are_retried(openai_server: Server) -> None:
    server = openai_server(delay_first=1, delay=1.0)
    texts = generator(server, timeout=0.2).generate(PROMPTS[:1], CONFIG)
    assert texts == ["tiny-model says: prompt 0"]
    assert len(server.requests) == 2


def test_persistent_failure_gives_up_with_the_status(openai_server: Server) -> None:
    server = openai_server(fail_first=100, fail_message="engine overloaded")
    with pytest.raises(UserError, match=r"kept failing: HTTP 500 after 3 attempts: engine overl"):
        generator(server, max_retries=2).generate(PROMPTS[:1], CONFIG)
    assert len(server.requests) == 3


def test_client_error_shows_the_servers_message_without_retrying(openai_server: Server) -> None:
    message = "The model `tiny-model` does not exist."
    server = openai_server(fail_first=100, fail_status=404, fail_message=message)
    with pytest.raises(UserError) as info:
        generator(server).generate(PROMPTS[:1], CONFIG)
    assert str(info.value) == (
        f"{server.base_url}/chat/completions rejected the request (HTTP 404): {message}"
    )
    assert len(server.requests) == 1


def test_unauthorised_hints_at_the_api_key(openai_server: Server) -> None:
    server = openai_server(fail_first=100, fail_status=401, fail_message="bad key")
    with pytest.raises(UserError, match=r"\(HTTP 401\) \(set OPENAI_API_KEY or pass api_key\)"):
        generator(server).generate(PROMPTS[:1], CONFIG)


def test_non_json_answer_shows_its_start(openai_server: Server) -> None:
    page = "<html><body>" + "x" * 500 + "</body></html>"
    server = openai_server(garbage=page)
    with pytest.raises(UserError) as info:
        generator(server).generate(PROMPTS[:1], CONFIG)
    message = str(info.value)
    assert "answered non-JSON (HTTP 200)" in message
    assert message.endswith(repr(page[:200] + "..."))


@pytest.mark.parametrize(
    "body",
    [
        '{"choices": []}',
        '{"choices": [{"message": {"content": null}}]}',
        '{"result": "ok"}',
        "[1, 2]",
    ],
)
def test_json_without_content_is_a_user_error(openai_server: Server, body: str) -> None:
    server = openai_server(garbage=body)
    with pytest.raises(UserError) as info:
        generator(server).generate(PROMPTS[:1], CONFIG)
    assert str(info.value) == (
        f"{server.base_url}/chat/completions answered JSON without "
        f"choices[0].message.content: {body}"
    )


def test_connection_refused_is_a_user_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(UserError) as info:
        OpenAIGenerator("m", url).generate(PROMPTS[:1], CONFIG)
    assert str(info.value) == f"cannot reach {url}/chat/completions: connection refused"


def test_bad_base_url_is_a_user_error() -> None:
    with pytest.raises(UserError, match="must start with http:// or https://"):
        OpenAIGenerator("m", "localhost:8000/v1")


def test_server_embeddings_are_deterministic_unit_vectors(
    openai_server: Server, server_module: ModuleType
) -> None:
    server = openai_server(dim=6)
    url = f"{server.base_url}/embeddings"
    answer = httpx.post(url, json={"model": "e", "input": ["a", "b"]}).json()
    sized = httpx.post(url, json={"model": "e", "input": "a", "dimensions": 3}).json()
    vectors = [row["embedding"] for row in answer["data"]]
    assert vectors == [server_module.embedding_for("a", 6), server_module.embedding_for("b", 6)]
    assert abs(sum(v * v for v in vectors[0]) - 1.0) < 1e-12
    assert vectors[0] != vectors[1]
    assert sized["data"][0]["embedding"] == server_module.embedding_for("a", 3)


def test_ngram_blocking_is_refused_not_ignored() -> None:
    gen = OpenAIGenerator("tiny-model", "http://127.0.0.1:9")
    with pytest.raises(UserError, match="cannot block repeated n-grams"):
        gen.generate(PROMPTS[:1], GenerationConfig(no_repeat_ngram_size=3))
