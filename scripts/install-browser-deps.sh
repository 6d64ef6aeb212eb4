#!/bin/sh
# Installs what the web UI's browser tests need: Debian's Chromium (driven by
# playwright-core) and the UI's npm dependencies (npm ci, from package-lock.json).
set -eu
cd "$(dirname "$0")/.."
if ! [ -x /usr/bin/chromium ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi
(cd web && npm ci --no-audit --no-fund)
