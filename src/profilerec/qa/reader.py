"""The frozen reader LLM: next-token digit log-probs, option log-likelihoods, short answers.

Rating and choice need the model's logits, so only the transformers backend can answer them
(an OpenAI-compatible server or llama.cpp is refused with a UserError before any load); the
review task only generates text, which every backend can do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from profilerec.errors import UserError
from profilerec.llm import parse_spec
from profilerec.llm.base import GenerationConfig, Generator, Messages
from profilerec.progress import Tasks
from profilerec.qa.cache import AnswerCache, answer_key
from profilerec.qa.scoring import next_token_logprobs, option_logliks
from profilerec.rewards.lm_scorer import LMScorer

LOGIT_TASKS = ("rating", "choice")


def check_reader_spec(spec: str, tasks: tuple[str, ...]) -> None:
    """Refuse, before loading anything, a backend that cannot give log-probs to a task needing them."""
    backend = parse_spec(spec).backend
    needs = [t for t in tasks if t in LOGIT_TASKS]
    if backend != "transformers" and needs:
        raise UserError(
            f"task(s) {', '.join(needs)} score the reader's log-probabilities, which the "
            f"{backend} backend does not expose here; use a transformers reader "
            "(transformers or transformers:ID_OR_PATH) or --task review"
        )


class Reader:
    """Answers QA prompts with a generator, caching every answer by (model id, prompt)."""

    def __init__(
        self,
        generator: Generator,
        cache_dir: Path,
        *,
        batch_size: int = 8,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.generator = generator
        self.model_id = generator.model_id
        self.cache = AnswerCache(cache_dir, self.model_id)
        self.batch_size = batch_size
        self.scorer: LMScorer | None = None
        #: Progress-bar label of the next batch of questions.
        self.label = "reader"
        model: Any = getattr(generator, "model", None)
        if model is not None and hasattr(generator, "render"):
            self.scorer = LMScorer(
                model, generator.tokenizer, batch_size=batch_size, disable_adapter=False
            )

    def _need_scorer(self) -> LMScorer:
        if self.scorer is None:
            raise UserError(f"reader {self.model_id} gives no log-probabilities")
        return self.scorer

    def render(self, prompt: Messages) -> str:
        return self.generator.render(prompt)  # type: ignore[attr-defined,no-any-return]

    def digit_ids(self, digits: list[str]) -> list[int]:
        tok = self._need_scorer().tokenizer
        ids = [tok(d, add_special_tokens=False)["input_ids"] for d in digits]
        if any(len(i) != 1 for i in ids):
            raise UserError(f"reader {self.model_id}: the digits 1-5 are not single tokens")
        return [i[0] for i in ids]

    def next_token_logprobs(
        self, prompts: list[Messages], token_ids: list[int], bar: Tasks | None = None
    ) -> np.ndarray:
        texts = [self.render(p) for p in prompts]
        keys = [answer_key("next", t, ",".join(map(str, token_ids))) for t in texts]

        def compute(idx: list[int]) -> list[Any]:
            return next_token_logprobs(self._need_scorer(), [texts[i] for i in idx], token_ids)

        return np.asarray(self._cached(keys, compute, bar), dtype=np.float64)

    def option_logliks(
        self,
        prompts: list[Messages],
        options: list[list[str]],
        *,
        normalize: bool,
        bar: Tasks | None = None,
    ) -> list[list[float]]:
        """Per prompt, the log-likelihood of each of its options as the reader's answer."""
        texts = [self.render(p) for p in prompts]
        keys = [
            answer_key("options", t, json.dumps(o), str(normalize))
            for t, o in zip(texts, options, strict=True)
        ]

        def compute(idx: list[int]) -> list[Any]:
            scorer = self._need_scorer()
            return [option_logliks(scorer, texts[i], options[i], normalize=normalize) for i in idx]

        return [list(map(float, v)) for v in self._cached(keys, compute, bar)]

    def generate(
        self, prompts: list[Messages], max_new_tokens: int, bar: Tasks | None = None
    ) -> list[str]:
        config = GenerationConfig(max_new_tokens=max_new_tokens, temperature=0.0)
        keys = [answer_key("gen", repr(p), str(max_new_tokens)) for p in prompts]

        def compute(idx: list[int]) -> list[Any]:
            return self.generator.generate([prompts[i] for i in idx], config)

        return [str(v) for v in self._cached(keys, compute, bar)]

    def _cached(
        self,
        keys: list[bytes],
        compute: Callable[[list[int]], list[Any]],
        bar: Tasks | None,
    ) -> list[Any]:
        """Values for ``keys``: cached ones read, the rest computed in batches and stored."""
        found = self.cache.get(keys)
        todo = [i for i, k in enumerate(keys) if k not in found]
        task = bar.add(self.label, len(todo)) if bar is not None and todo else None
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start : start + self.batch_size]
            values = compute(idx)
            fresh = {keys[i]: v for i, v in zip(idx, values, strict=True)}
            self.cache.put(fresh)
            found.update(fresh)
            if task is not None:
                task.advance(len(idx))
        return [found[k] for k in keys]
