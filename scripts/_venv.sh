# Sourced by up.sh and test.sh: make .venv with Python 3.11 and install the pinned requirements
# whenever they change (a hash of the files is kept in the venv).
set -euo pipefail
PYTHON_BIN="${PYTHON:-python3.11}"
command -v "$PYTHON_BIN" >/dev/null 2>&1 || PYTHON_BIN=python3
"$PYTHON_BIN" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $("$PYTHON_BIN" --version)…"
  "$PYTHON_BIN" -m venv .venv
fi
REQ_FILE="${1:-requirements.txt}"
wanted=$(cat requirements.txt "$REQ_FILE" | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.requirements.sha 2>/dev/null || true)" != "$wanted" ]; then
  echo "Installing $REQ_FILE into .venv (first run takes a few minutes)…"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQ_FILE"
  echo "$wanted" > .venv/.requirements.sha
fi
export PATH="$PWD/.venv/bin:$PATH"
