#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/e2e). Safe to run again.
# Exits 0 in every case, saying clearly whether chromium is available: the tests skip,
# with this script's reason, when it is not.
set -uo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "install-chromium: chromium already installed ($(command -v chromium))"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-chromium: chromium is missing and this is not root; install it with: sudo apt-get install -y chromium"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: chromium is missing and apt-get is not available (not Debian/Ubuntu); install chromium by hand"
  exit 0
fi
echo "install-chromium: installing Debian's chromium with apt-get (a few minutes the first time)" >&2
if apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
    && command -v chromium >/dev/null 2>&1; then
  echo "install-chromium: installed chromium ($(command -v chromium))"
else
  echo "install-chromium: apt-get could not install chromium (no network or no package source?)"
fi
exit 0
