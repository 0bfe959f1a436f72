"""The tuned-embedder condition: the retrieval embedder fine-tuned on training pairs."""

from profilerec.methods.embedder.config import EmbedderTuneConfig
from profilerec.methods.embedder.train import training_pairs, tune_embedder

__all__ = ["EmbedderTuneConfig", "training_pairs", "tune_embedder"]
