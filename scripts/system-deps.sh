#!/usr/bin/env bash
# Install what fundtrace's tests and demo run besides Python packages, where it is missing:
# Debian's PostgreSQL 15 binaries (throw-away test servers), litecoind (a Bitcoin Core 0.21
# fork, run with -regtest by the collection tests) and anvil (an Ethereum dev node, from npm,
# into .tools/).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v litecoind >/dev/null 2>&1 || need+=(litecoind)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
ANVIL_VERSION=1.7.1
if [ ! -x .tools/node_modules/.bin/anvil ]; then
  echo "installing anvil ${ANVIL_VERSION} into .tools/"
  npm install --silent --no-audit --no-fund --prefix .tools "@foundry-rs/anvil@${ANVIL_VERSION}"
fi
