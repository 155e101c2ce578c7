# The two commands of the README's quick start.
.PHONY: run test setup lint

setup:
	bash scripts/setup.sh

run: setup
	.venv/bin/radio up

test: setup
	.venv/bin/ruff check radio tests scripts
	.venv/bin/python -m pytest -q -ra
