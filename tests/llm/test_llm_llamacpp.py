from __future__ import annotations

import importlib.util

import pytest

from profilerec.errors import UserError
from profilerec.llm import load_generator
from profilerec.llm.llamacpp import LlamaCppGenerator


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is not None, reason="llama-cpp-python is installed"
)
def test_missing_extra_says_how_to_install(tmp_path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(UserError, match=r"pip install 'profilerec\[llamacpp\]'"):
        LlamaCppGenerator(gguf)
    with pytest.raises(UserError, match=r"profilerec\[llamacpp\]"):
        load_generator(f"llamacpp:{gguf}")
