#!/usr/bin/env bash
# Run the whole test suite: linters and layer contracts, Django checks, then pytest against the
# real embedded Postgres+pgvector and Redis (kept apart from the dev data in .data-test/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements-dev.txt
source scripts/_chromium.sh
export RECSYS_DATA_DIR="${RECSYS_TEST_DATA_DIR:-$PWD/.data-test}"

echo "== ruff";            ruff check . && ruff format --check .
echo "== mypy";            mypy .
echo "== import-linter";   lint-imports
echo "== django checks";   python manage.py check --fail-level WARNING
echo "== migrations";      python manage.py makemigrations --check --dry-run
echo "== pytest"
set +e
python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a broken setup, not a pass." >&2
  exit 1
fi
exit "$rc"
