#!/usr/bin/env bash
# One command: set up (with the test tools, Ray for the --engine ray tests, and a headless Chromium), lint,
# run every test.
#   scripts/test.sh [pytest options...]
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev,ray bash scripts/setup.sh
# The browser test drives Debian's Chromium (Playwright's own browser download cannot reach its host).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser test ..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "warning: could not install chromium; the browser test will be skipped" >&2
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
