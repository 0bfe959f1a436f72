#!/usr/bin/env bash
# System packages the test suite uses: headless Chromium renders report.html.
# Skipped quietly when already present; needs root (as on CI and the dev machines).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the report screenshot test will be skipped" >&2
  else
    echo "warning: chromium not found; the report screenshot test will be skipped" >&2
  fi
fi
