# The two commands of the README's quick start, and the developer's fast check.
.PHONY: run test setup check

setup:
	bash scripts/setup.sh

run: setup
	.venv/bin/radio up

# The whole suite, slow tests (real models, long-running servers) included: what CI runs.
test: setup
	.venv/bin/ruff check radio tests scripts
	.venv/bin/mypy
	.venv/bin/python -m pytest -q -ra --durations=25

# Before a commit: lint, types and the fast tests (under 3 minutes on 2 busy cores; the
# tests marked slow, 2 s and more each, run in `make test`), on the venv that setup made.
check:
	.venv/bin/ruff check radio tests scripts
	.venv/bin/mypy
	.venv/bin/python -m pytest -q -m "not slow" -x
