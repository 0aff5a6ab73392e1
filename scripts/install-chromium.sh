#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser tests (playwright-core drives it; no
# browser download). Does nothing when /usr/bin/chromium is already there. Fails, naming what is
# missing, when it cannot install.
set -euo pipefail
CHROMIUM=${LGSP_CHROMIUM:-/usr/bin/chromium}
die() { echo "install-chromium: $*" >&2; exit 1; }

if [ -x "$CHROMIUM" ]; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 ||
  die "$CHROMIUM not found and apt-get is missing: install Debian's 'chromium' package (the console's browser tests need it)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 ||
    die "$CHROMIUM not found; installing Debian's 'chromium' needs root (run: apt-get install chromium)"
  SUDO="sudo"
fi
echo "install-chromium: installing Debian's chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2 || die "apt-get update failed: cannot install 'chromium'"
$SUDO apt-get install -y -q --no-install-recommends chromium >&2 ||
  die "apt-get install chromium failed: the console's browser tests need $CHROMIUM"
[ -x "$CHROMIUM" ] || die "chromium installed but $CHROMIUM is missing"
