"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests (chat completions + embeddings).

It answers deterministically, so tests can compute the expected values by hand:
- ``POST /v1/chat/completions``: content is ``reply_for(model, messages)``.
- ``POST /v1/embeddings``: vector i is ``embedding_for(text_i, dim)`` (unit length).
It records every request and can misbehave on purpose: fail the first N requests with a
status (500, 429, ...), answer a fixed garbage body, or delay the first N answers.

    with OpenAIServer(fail_first=2) as server:
        OpenAIGenerator("m", server.base_url, backoff=0.01).generate(...)
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def reply_for(model: str, messages: list[dict[str, str]]) -> str:
    """The completion the server writes: the model name and the last message, echoed."""
    return f"{model} says: {messages[-1]['content']}"


def embedding_for(text: str, dim: int) -> list[float]:
    """A unit vector from the SHA-256 of the text (counter mode), 4 bytes per component."""
    raw = b""
    counter = 0
    while len(raw) < 4 * dim:
        raw += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    values = [int.from_bytes(raw[4 * i : 4 * i + 4], "big") / 2**31 - 1.0 for i in range(dim)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


class OpenAIServer:
    """Serves on an ephemeral port in a background thread; use as a context manager.

    Args:
        fail_first: Answer this many requests (any endpoint) with ``fail_status``.
        fail_status: Status of those failures (500, 429, 400, ...).
        fail_message: ``error.message`` in the failures' OpenAI-style JSON body.
        retry_after: If set, sent as the failures' Retry-After header.
        garbage: If set, every successful request gets this body verbatim instead.
        delay_first: Sleep ``delay`` seconds before answering this many requests.
        delay: See ``delay_first``; also applied to every request when delay_first is -1.
        dim: Embedding size when a request does not ask for ``dimensions``.
    """

    def __init__(
        self,
        *,
        fail_first: int = 0,
        fail_status: int = 500,
        fail_message: str = "simulated failure",
        retry_after: str | None = None,
        garbage: str | None = None,
        delay_first: int = 0,
        delay: float = 0.0,
        dim: int = 8,
    ) -> None:
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.fail_message = fail_message
        self.retry_after = retry_after
        self.garbage = garbage
        self.delay_first = delay_first
        self.delay = delay
        self.dim = dim
        #: (path, JSON body) of every request received, in arrival order.
        self.requests: list[tuple[str, dict[str, Any]]] = []
        #: The HTTP headers of each request, in the same order.
        self.headers: list[dict[str, str]] = []
        #: Most requests being handled at the same moment.
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> OpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _admit(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, float]:
        """Record a request; return (its arrival number, seconds to sleep first)."""
        with self._lock:
            self.requests.append((path, body))
            self.headers.append(headers)
            number = len(self.requests)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        sleep = self.delay if self.delay_first == -1 or number <= self.delay_first else 0.0
        return number, sleep

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def answer(self, number: int, path: str, body: dict[str, Any]) -> tuple[int, str, str]:
        """(status, content type, body text) for request ``number`` (1-based)."""
        if number <= self.fail_first:
            error = {"error": {"message": self.fail_message, "type": "server_error"}}
            return self.fail_status, "application/json", json.dumps(error)
        if self.garbage is not None:
            return 200, "text/plain", self.garbage
        if path == "/v1/chat/completions":
            return 200, "application/json", json.dumps(_chat(body))
        if path == "/v1/embeddings":
            return 200, "application/json", json.dumps(_embeddings(body, self.dim))
        error = {"error": {"message": f"no route {path}", "type": "invalid_request_error"}}
        return 404, "application/json", json.dumps(error)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_unparsed": raw.decode(errors="replace")}
                number, sleep = server._admit(self.path, body, dict(self.headers.items()))
                try:
                    time.sleep(sleep)
                    status, ctype, text = server.answer(number, self.path, body)
                finally:
                    # Counted out before the answer is sent: a client that has read it may
                    # send its next request before this thread runs again (seen under load),
                    # and must not be counted as one more request in flight.
                    server._leave()
                try:
                    data = text.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    if status >= 400 and server.retry_after is not None:
                        self.send_header("Retry-After", server.retry_after)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler


def _chat(body: dict[str, Any]) -> dict[str, Any]:
    content = reply_for(body["model"], body["messages"])
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _embeddings(body: dict[str, Any], default_dim: int) -> dict[str, Any]:
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    dim = int(body.get("dimensions") or default_dim)
    return {
        "object": "list",
        "model": body.get("model", ""),
        "data": [
            {"object": "embedding", "index": i, "embedding": embedding_for(text, dim)}
            for i, text in enumerate(texts)
        ],
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    }
