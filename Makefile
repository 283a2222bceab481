# handoff_app: `make run` starts the app, `make test` runs everything. Both do all set-up.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
export LITELLM_LOCAL_MODEL_COST_MAP := True
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup migrate run test lint typecheck unit integration browser chromium bench train-intent clean

$(VENV)/.installed: requirements.txt requirements-nodeps.txt
	@if ! $(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1; then \
		echo "Installing python3-venv (Debian/Ubuntu ship Python without venv)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; \
	fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	@touch $@

setup: $(VENV)/.installed

migrate: setup
	$(PY) -m handoff_app migrate

run: migrate
	$(PY) -m handoff_app seed-demo
	@echo ""
	@echo "  handoff_app is starting: http://localhost:3000  (backend on :8000)"
	@echo "  Visitor chat: http://localhost:3000/    Staff: http://localhost:3000/login"
	@echo "  Create the owner: open /login (first run), or"
	@echo "    .venv/bin/python -m handoff_app create-owner --email you@example.com --password 'at-least-10-chars'"
	@echo ""
	$(VENV)/bin/reflex run --frontend-port 3000 --backend-port 8000

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@command -v chromium >/dev/null

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

# Everything: lint, types, unit, integration (SQLite, PostgreSQL, Redis, two workers), browser.
# PostgreSQL/Redis tests use TEST_DATABASE_URL / TEST_REDIS_URL (defaults: the local servers).
# Browser tests run in their own pytest process: Playwright's sync API keeps an event loop
# running that clashes with pytest-asyncio's.
test: setup chromium lint typecheck
	$(PY) -m pytest -rs -p no:cacheprovider tests/unit tests/integration
	$(PY) -m pytest -rs -p no:cacheprovider tests/e2e

bench: setup
	$(PY) -m bench.delivery
	$(PY) -m bench.queue
	$(PY) -m bench.judge
	$(PY) -m bench.encoder

# Fine-tune the escalation classifier (handoff_app/bot/intent_model.safetensors) from
# tests/eval; torch only here. About five minutes on two cores.
train-intent: setup
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet -r requirements-train.txt
	$(PY) -m bench.train_intent

clean:
	rm -rf $(VENV) .web .states
