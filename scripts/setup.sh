#!/usr/bin/env bash
# Creates .venv and installs faceemo with its dependencies (again only when pyproject.toml changed).
# Sourced by dashboard.sh and test.sh; EXTRAS=dev adds the test tools, EXTRAS=ray the Ray engine
# (EXTRAS=dev,ray both).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=".venv/.faceemo-installed-${EXTRAS:-base}"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing dependencies into .venv ..." >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${EXTRAS:+[$EXTRAS]}"
  echo "$want" > "$stamp"
fi
