#!/usr/bin/env bash
# Installs everything paychan needs on Debian 12, idempotently: the C++ toolchain and libraries from
# Debian's packages, and the pinned npm peers (x402 reference SDK, viem, solc, anvil) into ./node_modules.
# Usage: scripts/setup.sh          (safe to re-run; does nothing when all is present)
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  clang libclang-rt-14-dev
  libsecp256k1-dev nettle-dev rapidjson-dev libmsgpack-cxx-dev
  libboost-dev libboost-system-dev libsqlite3-dev libssl-dev openssl
  googletest libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev libgoogle-perftools-dev
)
# Node.js may come from elsewhere than Debian (its npm then conflicts with Debian's): ask only for
# what is missing.
command -v node >/dev/null || debs+=(nodejs)
command -v npm >/dev/null || debs+=(npm)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm peers, exactly as pinned in package-lock.json; install scripts are never run.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing pinned npm packages"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
echo "setup: ready"
