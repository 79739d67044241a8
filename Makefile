# Two commands a researcher needs on a fresh machine with Python 3.11 and make:
#   make reproduce   # set up .venv and run the whole study on the default `cpu` profile
#   make test        # set up .venv (with test extras) and run ruff, the unit tests and nbval (smoke)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
SEED ?= 0

.PHONY: reproduce test install install-test lint unit nbval notebooks bench clean-cache readme lab

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

# nbval re-executes every notebook at the smoke profile, twice: with the default threads, then with
# OMP_NUM_THREADS=1 and an empty model cache (another reduction order, models trained anew), so that a
# checked output that depends on float noise fails here and not on another machine. Results and the second
# cache go to scratch folders, never over the committed results.
NBVAL_RUN = d=$$(mktemp -d) && MAGVIT_PROFILE=smoke MAGVIT_RESULTS=$$d/results $(1) $(PY) -m pytest --nbval-lax \
	notebooks; rc=$$?; rm -rf $$d; exit $$rc
nbval: install-test
	$(call NBVAL_RUN,)
	$(call NBVAL_RUN,OMP_NUM_THREADS=1 MAGVIT_CACHE=$$d/cache)

# Re-execute the notebooks in place at the smoke profile (refreshes the outputs nbval compares);
# NB=02 refreshes only 02_*.ipynb. MAGVIT_PROGRESS=summary: one line per training run, not every redraw of its bar,
# and one line per table's sampling.
NB ?= [0-9][0-9]_
notebooks: install-test
	cd notebooks && for nb in $(NB)*.ipynb; do \
	  MAGVIT_PROFILE=smoke MAGVIT_PROGRESS=summary MAGVIT_RESULTS=$$(mktemp -d) ../$(PY) -m jupyter nbconvert --to notebook \
	    --ExecutePreprocessor.kernel_manager_class=magvit.study.EncryptedKernelManager \
	    --execute --inplace $$nb || exit 1; done

bench: install-test
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean-cache:
	rm -rf .cache/magvit

# The README's claims matrix and docs/results.md's numbers, regenerated from results/claims.csv and results/gpu/claims.csv (tests/test_summary.py fails when they differ)
readme: install
	$(PY) -m magvit.experiments.summary --readme README.md --details docs/results.md

# JupyterLab on the notebooks with the project's kernel (the .venv's python3); the executed `cpu` copies, with their
# outputs and figures in place, are in results/notebooks/
lab: install
	$(PY) -m jupyter lab --notebook-dir=. notebooks/
