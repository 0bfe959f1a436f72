"""Chat completions from any OpenAI-compatible server (vLLM, llama.cpp server, SGLang, OpenAI)."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from profilerec.errors import UserError
from profilerec.llm.base import GenerationConfig, Messages, refuse_ngram_blocking
from profilerec.llm.seeds import request_seeds

#: Statuses worth retrying: rate limits and server-side failures.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
#: Longest wait between retries, whatever Retry-After asks for.
MAX_BACKOFF_SECONDS = 30.0


def _excerpt(text: str, limit: int = 200) -> str:
    return text[:limit] + ("..." if len(text) > limit else "")


def _server_message(response: httpx.Response) -> str:
    """The server's own error message when it sent one in the OpenAI shape, else the body."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return _excerpt(response.text)
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return _excerpt(response.text)


class OpenAIGenerator:
    """Sends each prompt as one ``POST {base_url}/chat/completions``, several at a time.

    Args:
        model: Model name as the server knows it.
        base_url: API root including the version, e.g. ``http://localhost:8000/v1``.
        api_key: Bearer token; defaults to ``$OPENAI_API_KEY`` (local servers need none).
        concurrency: Requests in flight at once.
        timeout: Seconds per request before it counts as failed (and is retried).
        max_retries: Retries per request after 429/5xx answers, timeouts or dropped
            connections, waiting ``backoff * 2**attempt`` seconds (or Retry-After).
        backoff: First retry wait in seconds.
        send_repetition_penalty: vLLM, SGLang and the llama.cpp server accept
            ``repetition_penalty``; api.openai.com rejects it, so set False there.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        *,
        api_key: str | None = None,
        concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        send_repetition_penalty: bool = True,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise UserError(f"base URL {base_url!r} must start with http:// or https://")
        if concurrency < 1:
            raise UserError(f"concurrency must be at least 1, got {concurrency}")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.send_repetition_penalty = send_repetition_penalty
        self.model_id = f"openai:{model}@{self.base_url}"

    def payload(self, prompt: Messages, config: GenerationConfig, seed: int) -> dict[str, Any]:
        """The JSON body for one prompt."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": prompt,
            "max_tokens": config.max_new_tokens,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "seed": seed,
        }
        if self.send_repetition_penalty:
            body["repetition_penalty"] = config.repetition_penalty
        return body

    def generate(self, prompts: list[Messages], config: GenerationConfig) -> list[str]:
        """One completion per prompt, in order; ``concurrency`` requests in flight at once."""
        refuse_ngram_blocking(config, "openai")
        seeds = request_seeds(config.seed, prompts)
        bodies = [self.payload(p, config, seed) for p, seed in zip(prompts, seeds, strict=True)]
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        # A client per call: its connection pool lives exactly as long as the work.
        with (
            httpx.Client(headers=headers, timeout=self.timeout) as client,
            ThreadPoolExecutor(max_workers=self.concurrency) as pool,
        ):
            return list(pool.map(lambda body: self._complete(client, body), bodies))

    def _complete(self, client: httpx.Client, body: dict[str, Any]) -> str:
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = client.post(self.url, json=body)
            except httpx.ConnectError as err:
                reason = "connection refused" if "refused" in str(err).lower() else str(err)
                raise UserError(f"cannot reach {self.url}: {reason}") from err
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as err:
                if last:
                    raise UserError(
                        f"{self.url} did not answer after {attempt + 1} attempts: "
                        f"{type(err).__name__} {err}"
                    ) from err
                time.sleep(self._wait(attempt, None))
                continue
            if response.status_code in RETRY_STATUSES and not last:
                time.sleep(self._wait(attempt, response.headers.get("retry-after")))
                continue
            return self._content(response, attempt + 1)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), MAX_BACKOFF_SECONDS)
            except ValueError:
                pass  # an HTTP date: fall back to exponential backoff
        return min(self.backoff * 2**attempt, MAX_BACKOFF_SECONDS)

    def _content(self, response: httpx.Response, attempts: int) -> str:
        status = response.status_code
        if status >= 400:
            message = _server_message(response)
            if status in RETRY_STATUSES:
                raise UserError(
                    f"{self.url} kept failing: HTTP {status} after {attempts} attempts: {message}"
                )
            hint = " (set OPENAI_API_KEY or pass api_key)" if status in (401, 403) else ""
            raise UserError(f"{self.url} rejected the request (HTTP {status}){hint}: {message}")
        try:
            data = response.json()
        except ValueError as err:
            raise UserError(
                f"{self.url} answered non-JSON (HTTP {status}): {_excerpt(response.text)!r}"
            ) from err
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            raise UserError(
                f"{self.url} answered JSON without choices[0].message.content: "
                f"{_excerpt(response.text)}"
            )
        return content.strip()
