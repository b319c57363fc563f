#!/usr/bin/env bash
# Makes sure a Vulkan driver is there for the wgpu tests: Mesa's lavapipe (a conformant Vulkan
# implementation that runs on the CPU) from the distribution's packages. Idempotent and quiet;
# returns at once when a Vulkan loader and driver (ICD) are already installed. Needs root and
# apt-get to install; otherwise says what is missing and exits 1.
#   scripts/install-lavapipe.sh            # install when missing (.ci/run)
#   scripts/install-lavapipe.sh --check    # only say whether a driver is there (exit 0 / 1)
set -euo pipefail

have_icd() {
  local dir
  for dir in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
    compgen -G "$dir/*.json" >/dev/null && return 0
  done
  return 1
}

# (grep without -q: with pipefail, grep -q quitting early can kill ldconfig with SIGPIPE and
# fail the check at random, 2.5% of runs)
have_icd && ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null && exit 0
[ "${1:-}" = "--check" ] && exit 1

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "no Vulkan driver: install Mesa's lavapipe (Debian/Ubuntu: apt-get install mesa-vulkan-drivers)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq mesa-vulkan-drivers vulkan-tools >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null && apt-get install -y -qq mesa-vulkan-drivers vulkan-tools >/dev/null
}
have_icd || { echo "mesa-vulkan-drivers installed but no Vulkan ICD file found" >&2; exit 1; }
echo "installed Mesa's Vulkan drivers (lavapipe)" >&2
