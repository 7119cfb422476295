#!/usr/bin/env bash
# Debian packages some steps and tests use (a browser for rendering and web tests, CJK fonts, an OCR
# that reads Japanese). Installs the missing ones when run as root with apt; otherwise says what is missing.
set -euo pipefail
cd "$(dirname "$0")"
mapfile -t wanted < <(grep -v -E '^\s*(#|$)' system-packages.txt)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing Debian packages (install them with apt as root): ${missing[*]}" >&2
  exit 1
fi
