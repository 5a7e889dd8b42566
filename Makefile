# Aegis developer targets. `run`, `test` and `bench` depend on `install`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint crash-test clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; Aegis needs Python 3.11" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Paper trading of the default strategy against the in-process Binance emulator replaying the
# bundled XRP/USDT perpetual 5m candles at 600x (one candle every 0.5 s); Ctrl-C stops it cleanly.
run: install
	$(VENV)/bin/aegis run --mode paper --exchange emulator --speed 600

test: install
	$(PY) -m pytest -q -n 2 --dist loadgroup

# The package is installed editable: byte-compile it first, as an installed package is, so the
# whole-process figure does not include compiling ~90 modules (PYTHONDONTWRITEBYTECODE may be set)
bench: install
	$(PY) -m compileall -q src/aegis
	$(PY) -m benchmarks.run

# Issue 4 §3: 50 SIGKILLs across the order lifecycle on each database; `make test` runs a
# smaller count (tests/crash).
crash-test: install
	$(PY) -m benchmarks.crash_test --kills 50 --database sqlite
	$(PY) -m benchmarks.crash_test --kills 50 --database postgres

lint: install
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
