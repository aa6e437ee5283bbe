# The README's two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install graphiql-assets clean

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
	$(BIN)/ruff check crmgraph tests migrations
	$(BIN)/ruff format --check crmgraph tests migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

graphiql-assets:
	bash scripts/fetch-graphiql.sh

clean:
	rm -rf $(VENV) var
