#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing:
# python3-yaml (deployment file checks), PostgreSQL's server binaries
# (initdb/pg_ctl for the restart test) and runuser.
set -euo pipefail
need=()
dpkg -s python3-yaml >/dev/null 2>&1 || need+=(python3-yaml)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "test packages present"
