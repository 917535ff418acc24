# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
TORCH_VERSION ?= 2.13.0

.PHONY: demo test lint format clean bench sample

# Core + test + bench + cnn + gbm + dask extras (scikit-multilearn-ng is the peer the tests
# compare against; cnn so the pretrained network is tested; XGBoost and Dask are tested too).
# CPU torch, pinned and first, so pip never pulls a
# CUDA build; the torch search path (the one torch-CUDA runs) is tested on it too.
$(VENV)/.installed-test: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q torch==$(TORCH_VERSION)
	$(PIP) install -q -e ".[test,bench,cnn,gbm,dask]"
	touch $@

# torch first, pinned, so that pip keeps the CPU build and never pulls a multi-GB CUDA one.
$(VENV)/.installed-demo: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q torch==$(TORCH_VERSION)
	$(PIP) install -q -e ".[cnn,plot]"
	touch $@

# The main job: dataset summary and baselines, then seed 000's k-sweep on the bundled sample
# (CNN embeddings of the real posters, shipped in the package: no poster needed).
demo: $(VENV)/.installed-demo
	$(VENV)/bin/posterml info
	$(PY) benchmarks/ksweep.py --sample

# Rebuild the bundled sample from the real posters (../shared/data or $$POSTERML_DATA).
sample: $(VENV)/.installed-demo
	$(PY) benchmarks/build_sample.py

test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache build *.egg-info

# Sphinx site in docs/_build/html (warnings are errors): the test environment plus the
# `docs` extra. The examples run on the bundled sample: no poster and no network needed.
.PHONY: docs
$(VENV)/.installed-docs: $(VENV)/.installed-test
	$(PIP) install -q -e ".[docs]"
	touch $@

docs: $(VENV)/.installed-docs
	$(PY) docs/make_readme_figure.py
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
