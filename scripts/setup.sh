#!/usr/bin/env bash
# Installs what dltheory needs on Debian/Ubuntu and builds it: the apt packages that are missing
# (with sudo when not root), the npm dependencies, the libtorch addon and the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ make libtorch-dev libopenblas0-pthread dataset-fashion-mnist python3-torch python3-numpy python3-nibabel python3-pandas python3-torchvision python3-sklearn redis-server chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci also builds the addon (the package's install script); skip it when nothing changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
