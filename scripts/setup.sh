#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu machine: system packages (when root), a virtualenv, the project.
# Idempotent: a second run only checks. Used by `make demo`, `make test` and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libmagic1              # python-magic: MIME identification
  tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng   # OCR of scanned pages (Vietnamese model)
  poppler-utils          # pdftoppm, for looking at generated PDFs
  fonts-liberation fonts-liberation2 fonts-dejavu-core   # Times New Roman metrics (Liberation Serif 2 has Vietnamese glyphs)
  chromium               # browser tests (Playwright drives Debian's chromium)
  clamav                 # malware scan (clamscan); the tests bring an EICAR-only TEST signature database
  redis-server           # huey's Redis queue (the worker test); scripts/services.sh starts it
  postgresql-client      # pg_dump / pg_restore for PostgreSQL catalog backups
  ghostscript            # PDF -> PDF/A-2b preservation copies; its v2 sRGB profile for PDF/A-1 samples
  libreoffice-writer-nogui libreoffice-calc-nogui   # office documents -> PDF/A-2b preservation copies
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install with sudo: apt-get install ${missing[*]}" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ] || [ requirements.lock -nt .venv/.installed ]; then
  .venv/bin/pip install -q --upgrade pip
  if [ -f requirements.lock ]; then
    .venv/bin/pip install -q -r requirements.lock
  fi
  .venv/bin/pip install -q -e '.[test]'
  touch .venv/.installed
fi
echo "setup: ready (.venv)"
