"""OpenAIEmbedder against the real HTTP test server on 127.0.0.1 (tests/openai_server.py)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from profilerec.embed.openai_compat import OpenAIEmbedder
from profilerec.errors import UserError

TEXTS = ["apple", "pear", "banana", "", "peach and cream"]
Start = Callable[..., Any]


def make(server: Any, **kwargs: Any) -> OpenAIEmbedder:
    options: dict[str, Any] = {"retry_backoff": 0.01, "normalize": False, **kwargs}
    return OpenAIEmbedder("test-model", server.base_url, **options)


def embeddings_body(*rows: tuple[int, list[float]]) -> str:
    """An embeddings answer the server sends verbatim: (index, vector) per data item."""
    return json.dumps({"data": [{"index": i, "embedding": v} for i, v in rows]})


def test_vectors_in_input_order_across_batches(openai_server: Start, embedding_for: Any) -> None:
    server = openai_server(dim=8)
    emb = make(server, batch_size=2, concurrency=2)
    out = emb.embed(TEXTS)
    assert out.shape == (5, 8)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [embedding_for(t, 8) for t in TEXTS], rtol=1e-6)
    assert sorted(len(body["input"]) for _, body in server.requests) == [1, 2, 2]
    assert {body["model"] for _, body in server.requests} == {"test-model"}
    assert {path for path, _ in server.requests} == {"/v1/embeddings"}
    assert emb.dim == 8
    assert emb.model_id == f"openai:test-model@{server.base_url}"


def test_at_most_concurrency_requests_in_flight(openai_server: Start) -> None:
    server = openai_server(delay_first=-1, delay=0.1)
    make(server, batch_size=1, concurrency=2).embed(TEXTS)
    assert len(server.requests) == 5
    assert server.max_in_flight == 2


def test_normalised_rows_have_unit_length(openai_server: Start) -> None:
    server = openai_server(garbage=embeddings_body((0, [3.0, 4.0]), (1, [0.0, 0.0])))
    out = make(server, normalize=True).embed(["a", "b"])
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    assert make(server).embed(["a", "b"])[0].tolist() == [3.0, 4.0]


def test_answers_out_of_order_are_put_back_by_index(openai_server: Start) -> None:
    server = openai_server(garbage=embeddings_body((1, [0.0, 1.0]), (0, [1.0, 0.0])))
    np.testing.assert_array_equal(make(server).embed(["first", "second"]), [[1, 0], [0, 1]])


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retries_then_succeeds(openai_server: Start, status: int) -> None:
    server = openai_server(fail_first=2, fail_status=status, dim=4)
    assert make(server, max_retries=2).embed(["pear"]).shape == (1, 4)
    assert len(server.requests) == 3


def test_retry_after_is_honoured(openai_server: Start) -> None:
    server = openai_server(fail_first=1, fail_status=429, retry_after="0.3")
    start = time.perf_counter()
    make(server, retry_backoff=0.001).embed(["pear"])
    assert time.perf_counter() - start >= 0.3
    assert len(server.requests) == 2


def test_gives_up_after_max_retries(openai_server: Start) -> None:
    server = openai_server(fail_first=3, fail_status=500, fail_message="boom")
    with pytest.raises(UserError, match=r"failed after 3 tries: HTTP 500.*boom"):
        make(server, max_retries=2).embed(["pear"])
    assert len(server.requests) == 3


def test_client_error_is_not_retried(openai_server: Start) -> None:
    server = openai_server(fail_first=5, fail_status=400, fail_message="input too long")
    with pytest.raises(UserError, match=r"HTTP 400.*input too long"):
        make(server, max_retries=3).embed(["pear"])
    assert len(server.requests) == 1


def test_unauthorised_mentions_the_api_key(openai_server: Start) -> None:
    server = openai_server(fail_first=1, fail_status=401)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        make(server, api_key="sk-wrong").embed(["pear"])


def test_wrong_base_url_hints_at_v1(openai_server: Start) -> None:
    server = openai_server()
    emb = OpenAIEmbedder("m", server.base_url.removesuffix("/v1"), retry_backoff=0.01)
    with pytest.raises(UserError, match=r"HTTP 404.*/v1"):
        emb.embed(["pear"])


def test_timeout_is_retried_then_reported(openai_server: Start) -> None:
    server = openai_server(delay_first=2, delay=1.0)
    with pytest.raises(UserError, match=r"2 tries: timed out after 0.2s"):
        make(server, timeout=0.2, max_retries=1).embed(["pear"])
    assert len(server.requests) == 2


GARBAGE = {
    "non-JSON": ("<html>oops</html>", "non-JSON"),
    "no data": ('{"object": "list"}', "without a 'data' list"),
    "no embedding": ('{"data": [{"index": 0}]}', r"no 'embedding' list in data\[0\]"),
    "wrong count": (embeddings_body((0, [1.0]), (1, [2.0])), "2 embeddings for 1"),
    "strings": ('{"data": [{"embedding": ["1", "2"]}]}', "not all finite numbers"),
    "NaN": ('{"data": [{"embedding": [NaN, 1.0]}]}', "not all finite numbers"),
    "bad index": (embeddings_body((3, [1.0])), "bad or repeated index 3"),
}


@pytest.mark.parametrize("case", GARBAGE, ids=list(GARBAGE))
def test_garbage_answers_are_user_errors(openai_server: Start, case: str) -> None:
    body, message = GARBAGE[case]
    server = openai_server(garbage=body)
    with pytest.raises(UserError, match=message):
        make(server).embed(["pear"])


def test_inconsistent_dims_within_an_answer(openai_server: Start) -> None:
    server = openai_server(garbage=embeddings_body((0, [1.0, 2.0]), (1, [1.0])))
    with pytest.raises(UserError, match=r"differing sizes \[1, 2\]"):
        make(server).embed(["a", "b"])


def test_inconsistent_dims_across_calls(openai_server: Start) -> None:
    server = openai_server(dim=4)
    emb = make(server)
    assert emb.embed(["a"]).shape == (1, 4)
    server.dim = 2
    with pytest.raises(UserError, match=r"differing sizes \[2, 4\]"):
        emb.embed(["b"])


def test_dim_before_any_call_sends_one_probe(openai_server: Start) -> None:
    server = openai_server(dim=6)
    emb = make(server)
    assert emb.dim == 6
    assert len(server.requests) == 1
    assert emb.embed([]).shape == (0, 6)
    assert len(server.requests) == 1


def test_unreachable_server_is_a_user_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    emb = OpenAIEmbedder("m", f"http://127.0.0.1:{port}/v1", max_retries=1, retry_backoff=0.01)
    with pytest.raises(UserError, match="failed after 2 tries: cannot reach the server"):
        emb.embed(["pear"])


def test_bad_base_url_is_rejected_up_front() -> None:
    with pytest.raises(UserError, match="http:// or https://"):
        OpenAIEmbedder("m", "localhost:8000/v1")
