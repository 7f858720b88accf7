# The two commands of the README, and a few more for developers.
.PHONY: demo test lint bench setup lock

setup:
	./scripts/setup.sh

demo: setup
	.venv/bin/luutru demo

test: setup
	./scripts/test.sh

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench: setup
	.venv/bin/python bench/fixity.py && .venv/bin/python bench/search.py

# Pin what the suite passed with: setup.sh installs requirements.lock before the project.
lock: setup
	{ sed -n '1,3p' requirements.lock; .venv/bin/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
