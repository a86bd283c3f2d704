# Set-up and the two main jobs. `make demo` and `make test` create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.skmrl-installed

.PHONY: demo test test-slow test-all lint docs clean venv-python

$(STAMP): pyproject.toml | venv-python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned to 2.13.0: where the package index holds a CPU wheel of it (this
	# machine kind's, for Python 3.11 only), resolving the project's `torch` requirement then
	# pulls no multi-GB CUDA build; elsewhere (another Python, or PyPI alone) it is PyPI's CUDA
	# build with its nvidia-* packages (.venv 5.6 GB instead of 2.1), which runs on a CPU too.
	$(BIN)/python -m pip install --quiet "torch==2.13.0" || $(BIN)/python -m pip install --quiet torch
	$(BIN)/python -m pip install --quiet -e ".[dev,data,models,plot,parquet,docs,dask]"
	touch $(STAMP)

# PYTHON only chooses the interpreter that creates .venv: with a .venv made by another one, a
# PYTHON given to make (`make PYTHON=python3.10 test`) would be ignored and every target would
# run the old interpreter instead, so it stops and says how to switch. Only on make's command
# line: a PYTHON exported for other tools (node-gyp's python2, conda-build's) must not stop a
# working .venv.
venv-python:
ifeq ($(origin PYTHON),command line)
	@if test -x $(BIN)/python; then \
	  which='import os, sys; print("Python %d.%d.%d in %s" % (*sys.version_info[:3], os.path.realpath(sys.base_prefix)))'; \
	  want=$$($(PYTHON) -c "$$which") || exit 1; \
	  have=$$($(BIN)/python -c "$$which"); \
	  test "$$want" = "$$have" || { \
	    echo "make: $(VENV) holds $$have, not PYTHON=$(PYTHON) ($$want):" \
	      "run 'make clean' to create it again with that Python" >&2; exit 1; }; \
	fi
endif

demo: $(STAMP)
	$(BIN)/skmrl demo

# The default suite: every test but those marked slow, under 10 minutes on a 2-core CPU.
test: $(STAMP) lint
	$(BIN)/python -m pytest -m "not slow"

# The tests marked slow (a real model or a whole dataset at work, 5-8 minutes); CI runs them
# after `make test` (.ci/run).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# Both, in one pytest run.
test-all: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The documentation site, warnings as errors (tests/test_docs.py runs the same build in CI).
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf docs/_build docs/auto_examples docs/api/generated docs/sg_execution_times.rst $(VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info
