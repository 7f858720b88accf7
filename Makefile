# The two commands of the README, and a few more for developers.
.PHONY: demo test lint bench setup

setup:
	./scripts/setup.sh

demo: setup
	.venv/bin/luutru demo

test: setup
	./scripts/test.sh

lint: setup
	.venv/bin/ruff check . && .venv/bin/mypy

bench: setup
	.venv/bin/python bench/fixity.py && .venv/bin/python bench/search.py
