#!/usr/bin/env bash
# Makes sure a headless Chromium is there for the HTML report's browser test: Debian's
# `chromium` package. Idempotent and quiet; returns at once when a chromium binary is on PATH
# (or $DMLFT_CHROMIUM names one). Needs root and apt-get to install; otherwise says what is
# missing and exits 1.
#   scripts/install-chromium.sh            # install when missing (.ci/run)
#   scripts/install-chromium.sh --check    # only say whether one is there (exit 0 / 1)
set -euo pipefail

have_chromium() {
  [ -n "${DMLFT_CHROMIUM:-}" ] && [ -x "$DMLFT_CHROMIUM" ] && return 0
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null
}

have_chromium && exit 0
[ "${1:-}" = "--check" ] && exit 1

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "no chromium: install it (Debian: apt-get install chromium) or set DMLFT_CHROMIUM" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# --no-install-recommends: the browser and its libraries, not the desktop around it
apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null
}
have_chromium || { echo "the chromium package installed no chromium binary" >&2; exit 1; }
echo "installed chromium ($(chromium --version 2>/dev/null || echo unknown version))" >&2
