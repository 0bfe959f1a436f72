"""Rejection-sampling fine-tuning of the profiler: best-of-N by BLUE's reward, then LoRA SFT."""

from profilerec.methods.rft.config import RFTConfig
from profilerec.methods.rft.train import train_rft

__all__ = ["RFTConfig", "train_rft"]
