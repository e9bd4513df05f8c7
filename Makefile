# The two commands a fresh machine needs: `make report` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SETUP  := $(VENV)/.custkit-installed
DEMO   := data/demo/.complete

.PHONY: setup demo report test lint browser bench clean

setup: $(SETUP)

$(SETUP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,oracle]'
	# into .venv, not per user: with two checkouts a user-wide kernel runs the other one's code
	$(BIN)/python -m ipykernel install --sys-prefix --name custkit --display-name "Python (custkit)" >/dev/null
	touch $@

demo: $(DEMO)

$(DEMO): $(SETUP)
	$(BIN)/custkit demo --out data/demo
	touch $@

report: $(SETUP) $(DEMO)
	$(BIN)/custkit run all --params params/demo.yaml --out reports

lint: $(SETUP)
	$(BIN)/ruff check custkit tests bench
	$(BIN)/ruff format --check custkit tests bench
	$(BIN)/lint-imports --no-cache  # the layers of pyproject.toml [tool.importlinter]

# Chromium for the browser check (tests/browser): Debian's package, only when none is on the PATH
browser:
	.ci/install-chromium

test: $(SETUP) $(DEMO) lint browser
	$(BIN)/python -m pytest

bench: $(SETUP)
	$(BIN)/python bench/bench_audit.py
	$(BIN)/python bench/bench_ltv.py
	$(BIN)/python bench/bench_ltv_value.py
	$(BIN)/python bench/bench_splittest.py
	$(BIN)/python bench/bench_churn.py

clean:
	rm -rf reports/*/ reports/index.html data/demo .cache
