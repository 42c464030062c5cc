# Developer entry points. ARGS and PYTEST_ARGS pass options through, e.g.
#   make run ARGS=--no-traffic      make test PYTEST_ARGS='-k outbox -x'
SHELL := bash
PY := .venv/bin/python
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test lint bench schemas clean venv infra history

venv:
	@bash deploy/scripts/bootstrap-venv.sh

infra:
	@bash deploy/scripts/ensure-infra.sh

run: venv infra
	$(PY) -m services.demo $(ARGS)

# pytest first, then lint (in this order even under make -j).
test: venv infra
	$(PY) -m pytest $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory lint

lint: venv
	.venv/bin/ruff check .
	.venv/bin/mypy protocol services bench

# A fresh hub filled with 1.21 million completed checks of history (ARGS='--checks N').
history: venv infra
	$(PY) -m services.hub simulate-history $(ARGS)

bench: venv infra
	$(PY) -m bench.roundtrip $(ARGS)

schemas: venv
	$(PY) -m protocol.schemas --write
	$(PY) -m protocol.topology --write

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +
