#!/usr/bin/env bash
# The main job on an embedded default: a polling site's GSM-900 downlink where a barrage
# jammer switches on after 4 s; simulate the capture, replay it, print the events.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$PWD/.venv/numba-cache}
mkdir -p out/demo
.venv/bin/spectrum simulate barrage_wide --seconds 10 --out out/demo/polling_site >/dev/null
echo "replaying out/demo/polling_site.sigmf-meta (labels: out/demo/polling_site.labels.json)" >&2
.venv/bin/spectrum replay out/demo/polling_site.sigmf-meta
.venv/bin/spectrum replay out/demo/polling_site.sigmf-meta --json
