#!/usr/bin/env bash
# Debian packages imtui needs beyond Python: Pango/HarfBuzz/fontconfig and a font for WeasyPrint's
# PDF reports (libharfbuzz-subset0 makes PDF writing ~4x faster), poppler-utils to look at PDFs in
# tests, tmux for screen checks, and venv support for the system Python.  Installs only what is
# missing; needs root or sudo for that, and says so otherwise.
set -euo pipefail

PKGS=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core
      poppler-utils)
PYTHON=${PYTHON:-python3.11}
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  PKGS+=(python3-venv)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not a Debian system; install these yourself: ${missing[*]}" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "system-deps: need root to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
