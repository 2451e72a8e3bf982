#!/usr/bin/env bash
# Debian packages the tests need: CJK fonts for PDFs the tests generate, poppler for page images,
# PostgreSQL for the storage tests, Chromium for the audit page test. Installs only what is missing.
set -euo pipefail
need=()
for pkg in fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-uming fonts-arphic-ukai poppler-utils \
           postgresql chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "system-deps: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
