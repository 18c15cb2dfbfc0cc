# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed

.PHONY: run serve test lint system bench screenshot clean

$(RUNTIME): requirements.txt scripts/vendor-plotly.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	bash scripts/vendor-plotly.sh
	touch $(RUNTIME)

$(STAMP): $(RUNTIME) requirements-dev.txt scripts/vendor-axe.sh
	$(BIN)/pip install --quiet -r requirements-dev.txt
	bash scripts/vendor-axe.sh
	touch $(STAMP)

# The app on http://127.0.0.1:8050 with the embedded cache (set CACHE_REDIS_URL for Redis).
# The page is served once the default race's loops are compiled; the others compile in the
# background, one line each (optimizers/warm.py), and /healthz says how far they are.
run: $(RUNTIME)
	$(BIN)/python app.py

# Production serving: nginx (deploy/nginx.conf) in front of gunicorn (gunicorn.conf.py), in the
# foreground (scripts/serve.sh; HOST, PORT, WORKERS, ... from the env).
serve: $(RUNTIME) system
	$(BIN)/python -c "from app import app; from web.static import precompress; precompress(app)"
	bash scripts/serve.sh

# Debian's Chromium and redis-server, which pip cannot provide (needs root or sudo).
system:
	bash scripts/install-system.sh

# eslint (pinned in package.json / package-lock.json) for the browser scripts in assets/.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	npx --no-install eslint .

test: lint system
	$(BIN)/python -m optimizers.warm
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

bench: $(STAMP) system
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.coldstart
	$(BIN)/python -m bench.compile
	$(BIN)/python -m bench.curvature
	$(BIN)/python -m bench.modern
	$(BIN)/python -m bench.browser
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.stack
	$(BIN)/python -m bench.fair
	bash scripts/vendor-lighthouse.sh
	$(BIN)/python -m bench.lighthouse

# Retake the README's pictures (docs/screenshot*.png) from the browser tests.
screenshot: $(STAMP) system
	UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest -q tests/test_browser.py -k screenshot
	UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest -q tests/test_browser_layout.py \
		-k "one_column or 1400x900-opening or 1024x768"
	UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest -q tests/test_browser_lessons.py -k clicker

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
