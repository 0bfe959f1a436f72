"""A tiny random chat model built entirely offline, for unit tests and dry runs.

It writes gibberish, but it has every moving part of a real one (a byte-level BPE
tokenizer, special tokens, a ChatML template, a Llama body), so the generation and
training code paths run end to end in well under a second without any download.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: ChatML, as used by SmolLM2 and Qwen, minus the default system prompt.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
PAD_TOKEN = "<|pad|>"
BOS_TOKEN = "<|im_start|>"
EOS_TOKEN = "<|im_end|>"
SPECIAL_TOKENS = [PAD_TOKEN, BOS_TOKEN, EOS_TOKEN]
#: 256 byte symbols + 3 special tokens + merges learnt from the corpus below.
VOCAB_SIZE = 384

# A few hundred words in the register the profiler sees (reviews, products, profiles), so
# the BPE merges are not all wasted on one topic.
_CORPUS = """
The user bought a gentle face cleanser, a vitamin C serum and a matte lipstick in a warm
red shade. They write short reviews, rate most products four or five stars, and complain
when a scent is too strong or a bottle leaks. Recent purchases lean towards fragrance free
skin care for sensitive skin, sunscreen with a high protection factor, and travel sizes.
They like hair oil, argan shampoo, a wide tooth comb, nail polish in pastel colours and a
soft brush for blush. Items: moisturizer, toner, eye cream, body lotion, hand cream, lip
balm, mascara, eyeliner, foundation, concealer, powder, bronzer, highlighter, perfume,
cologne, deodorant, razor, shaving foam, beard oil, conditioner, hair mask, dry shampoo,
curling iron, straightener, hair dryer, face mask, sheet mask, exfoliating scrub, cotton
pads, makeup remover, micellar water, retinol night cream, hyaluronic acid, niacinamide.
Profile: prefers natural ingredients, values a good price, buys from the same brands again,
reads the label, dislikes sticky textures, wants products that last all day and do not
irritate. History, oldest first: 1. Rose water toner 2. Aloe vera gel 3. Charcoal face
mask 4. Coconut body butter 5. Tea tree oil. Write a short profile of this user's taste.
Predict the next item they will buy and explain why in one or two sentences.
Movies, books, restaurants and places follow the same pattern: the user liked a quiet
cafe with good coffee, a crime novel, a science fiction film and a park near the river.
"""


def build_tiny_tokenizer() -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained in-process on a fixed corpus.

    Byte-level means any text encodes without unknown tokens, and training is
    deterministic, so every call returns the same vocabulary.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_CORPUS.split("\n"), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        padding_side="left",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_causal_lm(seed: int = 0) -> tuple[Any, Any]:
    """A random ``LlamaForCausalLM`` (hidden 32, 2 layers, 2 heads) and its tokenizer."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = build_tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        # Larger than Llama's 0.02 so that the random logits are peaked: greedy choices
        # then have clear winners and are not flipped by float rounding between batch shapes.
        initializer_range=0.5,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    # fork_rng: seed the initialisation without disturbing the caller's torch RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config).to(torch.float32).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return model, tokenizer


def save_tiny_causal_lm(directory: str | Path, seed: int = 0) -> Path:
    """Save the tiny model and tokenizer as a transformers folder; returns the folder."""
    out = Path(directory)
    model, tokenizer = tiny_causal_lm(seed)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
