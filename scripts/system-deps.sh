#!/usr/bin/env bash
# Install what fundtrace's tests and demo run besides Python packages, where it is missing:
# Debian's PostgreSQL 15 binaries (throw-away test servers), litecoind (a Bitcoin Core 0.21
# fork, run with -regtest by the collection tests), anvil and solc-js (from npm, into .tools/).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v litecoind >/dev/null 2>&1 || need+=(litecoind)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -x /usr/bin/chromium ] || need+=(chromium)  # the browser test (slow) and docs screenshots
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
# anvil (Ethereum dev node) and solc-js (compiles the test contracts) from npm into .tools/.
npm_pkgs=()
[ -x .tools/node_modules/.bin/anvil ] || npm_pkgs+=("@foundry-rs/anvil@1.7.1")
[ -d .tools/node_modules/solc ] || npm_pkgs+=("solc@0.8.26")
if [ ${#npm_pkgs[@]} -gt 0 ]; then
  echo "installing into .tools/: ${npm_pkgs[*]}"
  npm install --silent --no-audit --no-fund --prefix .tools "${npm_pkgs[@]}"
fi
