# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# They create .venv, install the project with its dev extras (which builds the cffi kernels),
# and install the Debian packages the tests need (bubblewrap for the analyst sandbox) with
# apt-get when they are missing (root required; `apt-get update` runs first).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := bubblewrap libseccomp2
BENCH_SYSTEM_PACKAGES := libfec-dev
PYTEST_WORKERS ?= 2

.PHONY: install system-deps bench-system-deps test test-fast demo bench docs clean optical-pass

$(STAMP): pyproject.toml setup.py $(wildcard native/*.c native/*.h native/build_*.py)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

bench-system-deps:
	@missing=""; for p in $(BENCH_SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: install system-deps
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q --timeout=600 tests

demo: install
	$(PY) scripts/demo.py

bench: install system-deps bench-system-deps
	mkdir -p .benchmarks
	$(PY) -m pytest benchmarks -q --benchmark-only --benchmark-columns=min,median,max,ops --benchmark-sort=name -p no:xdist --benchmark-json=.benchmarks/latest.json
	$(PY) benchmarks/report.py

docs: install
	$(VENV)/bin/opals-ground dictionary --markdown -o docs/dictionary.md

clean:
	rm -rf $(VENV) build *.egg-info native/*.so

# ---- optical downlink ----
# A 150 s pass recording (~0.94 GB, in a temporary file deleted afterwards) decoded by
# `opals-ground optical decode`: wall/CPU time and peak RSS of the decoder.
optical-pass: install
	nice $(PY) benchmarks/optical_pass.py --seconds 150

# ---- HAPI data services ----
.PHONY: hapi-memory
hapi-memory: install  ## server peak RSS while streaming a year of housekeeping (slow: minutes)
	nice $(PY) scripts/hapi_memory.py --days 365

# ---- data sharing (issue 7) ----
.PHONY: share-demo
share-demo: install system-deps
	$(PY) scripts/share_demo.py
