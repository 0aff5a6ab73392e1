#!/usr/bin/env bash
# Installs Debian's php-cli for the PHP client examples (examples/php), which use only the
# extensions it bundles. Does nothing when php is already on PATH. Fails, naming what is missing,
# when it cannot install.
set -euo pipefail
PHP=${LGSP_PHP:-php}
die() { echo "install-php: $*" >&2; exit 1; }

if command -v "$PHP" >/dev/null 2>&1; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 ||
  die "php not found and apt-get is missing: install Debian's 'php-cli' package (the PHP client examples need it)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 ||
    die "php not found; installing Debian's 'php-cli' needs root (run: apt-get install php-cli)"
  SUDO="sudo"
fi
echo "install-php: installing Debian's php-cli with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2 || die "apt-get update failed: cannot install 'php-cli'"
$SUDO apt-get install -y -q --no-install-recommends php-cli >&2 ||
  die "apt-get install php-cli failed: the PHP client examples need php"
command -v "$PHP" >/dev/null 2>&1 || die "php-cli installed but $PHP is not on PATH"
