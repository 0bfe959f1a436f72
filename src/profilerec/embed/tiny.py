"""A tiny random SentenceTransformer built offline, for tests that need a real model folder."""

from __future__ import annotations

import tempfile
from pathlib import Path

#: Words of the tiny WordPiece vocabulary (product-catalogue flavoured). Any other word still
#: tokenizes, through the single letters and ``##`` letter pieces added below.
_WORD_TEXT = """
a an and the of for with to in on by from or is it this that your my you we our all new
set pack kit box bag bottle jar tube pump spray oil cream lotion serum gel foam mask balm wash
soap shampoo conditioner spray mist toner cleanser scrub powder stick pencil liner brush comb
mirror razor blade clipper trimmer dryer iron curler wig hair nail nails lip lips eye eyes face
facial skin body hand hands foot feet beard scalp lash lashes brow brows cheek neck
moisturizing hydrating nourishing soothing gentle natural organic pure vegan cruelty free
fragrance scented unscented fresh clean soft smooth silky shiny matte glossy long lasting
waterproof sensitive dry oily normal combination anti aging wrinkle acne repair vitamin
collagen retinol hyaluronic acid aloe vera coconut almond argan shea butter rose lavender
mint tea tree lemon vanilla honey charcoal clay sea salt sugar milk oat rice green black white
red pink blue purple gold silver brown clear nude natural color shade light medium dark
small large mini travel size oz ml fl count piece pieces professional salon home daily night
day women men kids baby unisex gift holiday cute beauty makeup cosmetic tool tools care
car tire tires pressure gauge engine wheel battery charger cable phone case screen laptop
keyboard mouse desk chair lamp table kitchen pan pot knife cup mug water filter garden hose
book novel pen paper toy game ball dog cat pet food snack coffee chocolate candy shoe shoes
shirt dress jacket sock socks hat watch ring necklace earring bracelet
good great best nice love like use used using easy quick fast works work smell smells
"""
_WORDS = _WORD_TEXT.split()

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789.,!?-'&%/()")


def _vocab() -> dict[str, int]:
    tokens = _SPECIAL + _CHARS + [f"##{c}" for c in _CHARS] + sorted(set(_WORDS))
    return {tok: i for i, tok in enumerate(dict.fromkeys(tokens))}


def save_tiny_sentence_transformer(
    directory: str | Path, *, seed: int = 0, hidden_size: int = 32, num_layers: int = 2
) -> Path:
    """Write a random BERT (Transformer + mean Pooling + Normalize) to ``directory``.

    The tokenizer is an uncased WordPiece built in memory with ``tokenizers`` and the weights come
    from ``seed``, so the folder is identical on every machine and nothing is downloaded. Loads
    with ``SentenceTransformerEmbedder(path)``; the vectors mean nothing semantically.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    vocab = _vocab()

    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer = BertTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
    )

    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=128,
    )
    with torch.random.fork_rng(devices=[]):  # seed the init without touching the caller's RNG
        torch.manual_seed(seed)
        bert = BertModel(config)

    # Transformer() loads from a folder, so the backbone goes through a scratch folder first.
    with tempfile.TemporaryDirectory() as scratch:
        bert.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)
        modules = [
            Transformer(scratch, max_seq_length=128),
            Pooling(hidden_size, "mean"),
            Normalize(),
        ]
        SentenceTransformer(modules=modules, device="cpu").save(str(out))
    return out
