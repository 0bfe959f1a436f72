"""The README's Python-API snippet runs as written, on the tiny models instead of the bundled
ones (the only change: the specs it names load the tiny test models)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_snippet() -> str:
    """The first ```python block after the ``## Python API`` heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README: no python block under '## Python API'"
    return match.group(1)


def test_readme_python_snippet_runs(
    tiny_lm_dir: Path,
    tiny_st_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import profilerec.embed as embed
    import profilerec.llm as llm

    load_generator, load_embedder = llm.load_generator, embed.load_embedder

    def tiny_generator(spec: str, **kwargs: Any) -> Any:
        assert spec == "transformers"  # the snippet's spec, the bundled model
        return load_generator(f"transformers:{tiny_lm_dir}", **kwargs)

    def tiny_embedder(spec: str = "sentence-transformers", **kwargs: Any) -> Any:
        assert spec == "sentence-transformers"
        return load_embedder(f"sentence-transformers:{tiny_st_dir}", **kwargs)

    monkeypatch.setattr(llm, "load_generator", tiny_generator)
    monkeypatch.setattr(embed, "load_embedder", tiny_embedder)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(readme_snippet(), str(README), "exec"), namespace)

    assert (tmp_path / "data" / "manifest.json").is_file()
    assert namespace["profiles"].height == 20
    metrics = namespace["result"]["metrics"]
    assert {"popularity", "history_text", "zero_shot"} <= set(metrics)
    printed = capsys.readouterr().out
    assert "zero_shot" in printed and "NDCG@10" in printed


def test_root_api_is_lazy_and_complete() -> None:
    import subprocess
    import sys

    import profilerec

    assert set(profilerec.__all__) == {"__version__", *profilerec._EXPORTS}
    stub = (Path(profilerec.__file__).parent / "__init__.pyi").read_text()
    assert set(re.findall(r" as (\w+)$", stub, re.MULTILINE)) == set(profilerec._EXPORTS)
    for name in profilerec._EXPORTS:
        assert getattr(profilerec, name) is not None
    import profilerec.evaluate.stage  # binds the subpackage at the root: still the function

    assert callable(profilerec.evaluate)
    code = "import sys, profilerec; print(sorted({'torch', 'polars', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # `import profilerec` pulls in no heavy dependency
