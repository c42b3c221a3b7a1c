#!/usr/bin/env bash
# Installs the Debian packages examsys needs: WeasyPrint's libraries, CJK fonts for PDFs,
# Chromium for the browser tests, nginx (the reverse proxy of a two-node deployment, run by
# tests/nodes/), and (when asked) Python's venv module.
# As root it uses apt-get; otherwise it prints the command to run.
set -euo pipefail

pkgs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libjpeg62-turbo
      libopenjp2-7 fonts-noto-cjk fontconfig chromium poppler-utils nginx-light)
if [[ "${1:-}" == "python-venv" ]]; then
  ver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null || echo 3)
  pkgs=(python3-venv "python${ver}-venv" python3-pip)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "examsys: please install these system packages by hand: ${missing[*]}" >&2
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "examsys: missing system packages: ${missing[*]}" >&2
  echo "examsys: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "examsys: installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# A package name that this Debian release lacks must not block the others.
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  for p in "${missing[@]}"; do
    apt-get install -y -qq --no-install-recommends "$p" >/dev/null || echo "examsys: could not install $p" >&2
  done
fi
