#!/usr/bin/env bash
# The whole check: lint, types, tests (slow end-to-end tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/pytest -n 2 --durations=15 "$@"
