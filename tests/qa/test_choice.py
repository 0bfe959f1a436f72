"""Choice: options exclude the past, are seeded per example, and a context naming the true
item makes it win; the shared-prefill option scores equal full forward passes."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from profilerec.data.dataset import Dataset
from profilerec.qa import choice, stage
from profilerec.qa.config import QAConfig
from profilerec.qa.scoring import option_logliks
from profilerec.rewards.lm_scorer import LMScorer


def test_options_hold_the_target_once_and_nothing_the_user_had(dataset: Dataset) -> None:
    examples = dataset.examples.sort("example_id")
    options, answers = choice.sample_options(dataset, examples, 3, seed=1)
    index = dataset.item_index
    seen = dataset.seen_before(examples)
    for opts, answer, target, past in zip(options, answers, examples["item_id"], seen, strict=True):
        assert opts[answer] == index[target] and opts.count(index[target]) == 1
        assert len(set(opts)) == len(opts) == min(4, len(index) - len(past))
        assert not set(opts) & set(past)
    head, head_answers = choice.sample_options(dataset, examples.head(3), 3, seed=1)
    assert (head, head_answers) == (options[:3], answers[:3])  # --limit asks the same
    other, _ = choice.sample_options(dataset, examples, 3, seed=2)
    assert other != options


class OverlapReader:
    """Scores an option by how many of its words the prompt contains (a hand-made reader)."""

    model_id = "overlap"
    label = ""

    def option_logliks(
        self, prompts: list[Any], options: list[list[str]], *, normalize: bool, bar: Any = None
    ) -> list[list[float]]:
        out = []
        for prompt, opts in zip(prompts, options, strict=True):
            text = prompt[-1]["content"]
            out.append([float(sum(w in text for w in o.split())) for o in opts])
        return out


def test_a_context_naming_the_true_item_wins(dataset: Dataset) -> None:
    examples = dataset.split("test").sort("example_id")
    titles = {i: f"product{i.upper()} kit" for i in dataset.item_ids}
    named = [f"Profile of the customer:\nwants product{t.upper()}" for t in examples["item_id"]]
    contexts = {"none": [""] * examples.height, "named": named}
    config = QAConfig(tasks=("choice",), n_negatives=3)
    per, rows, scored = stage._choice(
        dataset,
        examples,
        contexts,
        titles,
        cast(Any, OverlapReader()),
        config,
        None,
    )
    assert per["named"]["correct"].tolist() == [1.0] * 4
    assert scored.tolist() == list(range(examples.height))
    _, answers = choice.sample_options(dataset, examples, 3, config.seed)
    # all options tie without a context: the first is picked, right only where the answer is 0
    assert per["none"]["correct"].tolist() == [float(a == 0) for a in answers]
    assert sum(a == 0 for a in answers) < 4  # the true item is not always first
    counts = {"a": 1, "b": 2, "c": 2, "d": 1, "e": 1, "f": 1}  # training interactions per item
    opts, _ = choice.sample_options(dataset, examples, 3, config.seed)
    ids = dataset.item_ids
    popular = [
        float(max(o, key=lambda i: counts.get(ids[i], 0)) == o[a])
        for o, a in zip(opts, answers, strict=True)
    ]
    assert per["popularity"]["correct"].tolist() == popular
    assert [r["correct"].to_list() for r in rows] == [per[n]["correct"].tolist() for n in per]


def test_shared_prefill_scores_equal_separate_forward_passes(tiny_generator: Any) -> None:
    scorer = LMScorer(tiny_generator.model, tiny_generator.tokenizer, disable_adapter=False)
    prompt = tiny_generator.render([{"role": "user", "content": "Name the product next."}])
    options = ["rose water toner", "a hair dryer with a long cable", "x"]
    for normalize in (True, False):
        shared = option_logliks(scorer, prompt, options, normalize=normalize)
        separate = scorer.loglik([prompt] * 3, options, normalize=normalize)
        np.testing.assert_allclose(shared, separate, rtol=1e-5, atol=1e-4)
