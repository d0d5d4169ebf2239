# EduCap: `make run` serves the demo, `make test` proves it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-dev run serve migrate demo test lint typecheck pytest browser-test lock messages clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"

$(STAMP): $(PY) pyproject.toml requirements/constraints.txt
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e .
	touch $@

$(DEV_STAMP): $(STAMP) pyproject.toml requirements/constraints.txt
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $@

install: $(STAMP)

install-dev: $(DEV_STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --if-empty

# Loads the demo ministry if the database is empty, then serves the web app and a task
# worker together; Ctrl-C stops both.
run: migrate
	@EDUCAP_DEBUG=$${EDUCAP_DEBUG:-true} $(PY) manage.py run_demo --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	$(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n 2 --dist loadfile -m "not browser"

browser-test: install-dev
	$(BIN)/pytest -m browser

test: lint typecheck pytest browser-test

# Refresh the pinned versions (then commit requirements/constraints.txt).
lock: $(PY)
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade "pip>=24"
	.venv-lock/bin/pip install --quiet -e ".[dev]"
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements/constraints.txt
	rm -rf .venv-lock

messages: install-dev
	$(PY) manage.py makemessages -l ar -l fr -l lo --no-obsolete --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var/static
