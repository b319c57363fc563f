#!/usr/bin/env bash
# A PNG screenshot of an HTML report in headless Chromium, without network (how
# docs/quickstart/report.png is made):
#   scripts/report-screenshot.sh results/quickstart/report/report.html docs/quickstart/report.png [1280,1800]
# Chromium: $DMLFT_CHROMIUM, else chromium / chromium-browser on PATH (scripts/install-chromium.sh).
set -euo pipefail
page="${1:?usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT]}"
out="${2:?usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT]}"
size="${3:-1280,1800}"
browser="${DMLFT_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
[ -n "$browser" ] || { echo "no chromium (scripts/install-chromium.sh installs it)" >&2; exit 1; }
[ -f "$page" ] || { echo "$page: no such file" >&2; exit 1; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --no-first-run --disable-dev-shm-usage --hide-scrollbars \
  --user-data-dir="$profile" --window-size="$size" --screenshot="$(realpath -m "$out")" \
  "file://$(realpath "$page")" 2>/dev/null
[ -s "$out" ] || { echo "chromium wrote no screenshot" >&2; exit 1; }
echo "$out"
