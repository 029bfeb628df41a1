#!/usr/bin/env bash
# One command: set up, fill the warehouse from the FER-2013 archive (idempotent: a second run
# changes nothing), evaluate the committed models (with test-time augmentation, on the 7,178 test
# faces), predict every face's landmarks, then open the dashboard.
#   scripts/dashboard.sh [--data PATH] [--db PATH] [streamlit options...]
set -euo pipefail
cd "$(dirname "$0")/.."
data_args=(); db_args=(); rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data_args=(--data "$2"); shift 2 ;;
    --db) db_args=(--db "$2"); export FACEEMO_DB="$2"; shift 2 ;;
    *) rest+=("$1"); shift ;;
  esac
done
bash scripts/setup.sh
PY=.venv/bin/python
$PY -m pipelines ingest "${data_args[@]}" "${db_args[@]}"
# Model steps are skipped (with a note) when the committed model or the step is not there yet.
for step in "evaluate --tta" landmarks; do
  read -r -a cmd <<< "$step"
  if $PY -m pipelines "${cmd[0]}" --help >/dev/null 2>&1; then
    $PY -m pipelines "${cmd[@]}" "${db_args[@]}" || echo "note: '$step' failed; its pages will say what is missing" >&2
  fi
done
exec .venv/bin/streamlit run streamlit_app.py "${rest[@]}"
