# Two commands a researcher needs on a fresh machine with Python 3.11 and make:
#   make reproduce   # set up .venv and run the whole study on the default `cpu` profile
#   make test        # set up .venv (with test extras) and run ruff, the unit tests and nbval (smoke)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
SEED ?= 0

.PHONY: reproduce test install install-test lint unit nbval notebooks bench clean-cache

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamps depend on pyproject.toml, so a changed pin reinstalls.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

reproduce: install
	$(PY) -m magvit.study --profile $(PROFILE) --seed $(SEED)

test: install-test lint unit nbval

lint: install-test
	$(PY) -m ruff check .

unit: install-test
	$(PY) -m pytest tests

# nbval re-executes every notebook at the smoke profile; results go to a scratch folder so the
# committed cpu-profile results are never overwritten by smoke numbers.
nbval: install-test
	MAGVIT_PROFILE=smoke MAGVIT_RESULTS=$$(mktemp -d) $(PY) -m pytest --nbval-lax notebooks

# Re-execute the notebooks in place at the smoke profile (refreshes the outputs nbval compares).
notebooks: install-test
	cd notebooks && for nb in [0-9][0-9]_*.ipynb; do \
	  MAGVIT_PROFILE=smoke MAGVIT_RESULTS=$$(mktemp -d) ../$(PY) -m jupyter nbconvert --to notebook \
	    --execute --inplace $$nb || exit 1; done

bench: install-test
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean-cache:
	rm -rf .cache/magvit
