"""Embedder over an OpenAI-compatible ``POST {base_url}/embeddings`` (OpenAI, vLLM, llama.cpp, ...)."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np

from profilerec.embed.validate import check_texts
from profilerec.errors import UserError
from profilerec.progress import progress_bar

#: Longest wait between two tries, whatever the server's Retry-After says.
MAX_BACKOFF_S = 60.0


class OpenAIEmbedder:
    """Embeds texts with a remote model, ``batch_size`` texts per request, ``concurrency`` at once.

    Retries 429, 5xx, timeouts and connection failures with exponential backoff (honouring
    Retry-After); any other failure, or an answer that is not a well-formed embeddings response,
    is a UserError naming the server. ``dim`` is learnt from the first answer; reading it before
    any call sends one probe request.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        *,
        api_key: str | None = None,
        batch_size: int = 64,
        concurrency: int = 4,
        timeout: float = 60.0,
        max_retries: int = 4,
        normalize: bool = True,
        retry_backoff: float = 0.5,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise UserError(
                f"embedding base URL must start with http:// or https://, got {base_url!r}"
            )
        if batch_size < 1 or concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise UserError(
                "embedding batch_size and concurrency must be >= 1, max_retries >= 0, timeout > 0"
            )
        self.model_name = model
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/embeddings"
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.normalize = normalize
        self.retry_backoff = retry_backoff
        self.model_id = f"openai:{model}@{self.base_url}" + ("+norm" if normalize else "")
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """A ``[len(texts), dim]`` float32 array, row i for text i."""
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = [
            list(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)
        ]
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        limits = httpx.Limits(max_connections=self.concurrency)
        with httpx.Client(headers=headers, timeout=self.timeout, limits=limits) as client:
            # Threads, not asyncio: embed() stays callable from code that already runs an event
            # loop (notebooks), and httpx.Client is thread-safe.
            pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches)))
            try:
                futures = [pool.submit(self._request, client, batch) for batch in batches]
                # a rich bar on a terminal; in a log, a line every few seconds
                with progress_bar("embedding batches", len(batches), enabled=progress) as bar:
                    parts = []
                    for future in futures:
                        parts.append(future.result())
                        bar.advance()
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        dims = sorted({p.shape[1] for p in parts} | ({self._dim} if self._dim else set()))
        if len(dims) > 1:
            raise UserError(
                f"embedding server {self.url} returned vectors of differing sizes {dims}"
            )
        self._dim = dims[0]
        out = np.concatenate(parts)
        if self.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.where(norms > 0, norms, 1.0)
        return out.astype(np.float32, copy=False)

    def _request(self, client: httpx.Client, batch: list[str]) -> np.ndarray:
        # By hand rather than httpx's transport retries, which only cover failed connects and
        # not 429/5xx answers; tenacity would be a dependency for these dozen lines.
        for attempt in range(self.max_retries + 1):
            retry_after: str | None = None
            try:
                resp = client.post(self.url, json={"model": self.model_name, "input": batch})
            except httpx.TimeoutException:
                problem = f"timed out after {self.timeout:g}s"
            except httpx.TransportError as exc:
                problem = f"cannot reach the server ({type(exc).__name__}: {exc})"
            else:
                if resp.status_code < 300:
                    return self._parse(resp, len(batch))
                if resp.status_code != 429 and resp.status_code < 500:
                    raise UserError(self._client_error(resp))
                problem = f"HTTP {resp.status_code}: {_snippet(resp.text)}"
                retry_after = resp.headers.get("retry-after")
            if attempt == self.max_retries:
                raise UserError(
                    f"embedding server {self.url} failed after {attempt + 1} tries: {problem}; "
                    "check that it is running and the base URL is right"
                )
            time.sleep(self._delay(attempt, retry_after))
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        try:
            if retry_after is not None:
                return min(max(float(retry_after), 0.0), MAX_BACKOFF_S)
        except ValueError:  # an HTTP date; the exponential wait is good enough
            pass
        return min(self.retry_backoff * 2**attempt, MAX_BACKOFF_S)

    def _client_error(self, resp: httpx.Response) -> str:
        hint = {
            401: "; set OPENAI_API_KEY or pass api_key",
            403: "; set OPENAI_API_KEY or pass api_key",
            404: f"; the base URL usually ends in /v1, and the model must exist ({self.model_name!r})",
        }.get(resp.status_code, "")
        return f"embedding server {self.url} refused the request: HTTP {resp.status_code}: {_snippet(resp.text)}{hint}"

    def _parse(self, resp: httpx.Response, n: int) -> np.ndarray:
        """Validates an embeddings answer and returns its rows in input order."""
        where = f"embedding server {self.url}"
        try:
            body = resp.json()
        except ValueError:
            raise UserError(f"{where} answered with non-JSON: {_snippet(resp.text)}") from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise UserError(f"{where} answered without a 'data' list: {_snippet(resp.text)}")
        if len(data) != n:
            raise UserError(f"{where} returned {len(data)} embeddings for {n} texts")
        rows: list[list[float] | None] = [None] * n
        for pos, item in enumerate(data):
            emb = item.get("embedding") if isinstance(item, dict) else None
            if not isinstance(emb, list) or not emb:
                raise UserError(f"{where} answer has no 'embedding' list in data[{pos}]")
            idx = item.get("index", pos)
            if type(idx) is not int or not 0 <= idx < n or rows[idx] is not None:
                raise UserError(
                    f"{where} answer has a bad or repeated index {idx!r} in data[{pos}]"
                )
            rows[idx] = emb
        dims = sorted({len(r) for r in rows if r is not None})
        if len(dims) != 1:
            raise UserError(f"{where} returned vectors of differing sizes {dims} in one answer")
        arr = np.asarray(rows)
        if arr.dtype.kind not in "iuf" or not np.isfinite(arr).all():
            raise UserError(f"{where} returned embeddings that are not all finite numbers")
        return arr.astype(np.float32)


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return repr(text[:limit] + ("..." if len(text) > limit else ""))
