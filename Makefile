# The README's two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-tools duel install graphiql-assets clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/crmgraph migrate
	$(BIN)/crmgraph seed --demo
	@echo ""
	@echo "GraphiQL: http://127.0.0.1:8000/graphql  (paste a token above as {\"Authorization\": \"Bearer <token>\"})"
	$(BIN)/crmgraph serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check crmgraph tests migrations bench
	$(BIN)/ruff format --check crmgraph tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Benchmarks against the local PostgreSQL (see docs/performance.md); wrk is the load generator.
bench-tools:
	command -v wrk >/dev/null || (apt-get install -y wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y wrk))
	pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start

bench: $(STAMP) bench-tools
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Two builds loaded at the same time: BENCH_ARGS="--old COMMIT [--only Q1,Q2]".
duel: $(STAMP) bench-tools
	$(BIN)/python bench/duel.py $(BENCH_ARGS)

graphiql-assets:
	bash scripts/fetch-graphiql.sh

clean:
	rm -rf $(VENV) var
