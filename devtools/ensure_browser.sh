#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium); nothing is downloaded by a test
# tool. Installs it when it is missing and we are root, otherwise stops at once with one line
# saying what to do, before any test runs.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's Chromium for the browser tests (once; about a minute) ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  [ -x "$CHROMIUM" ] || { echo "Chromium did not install at $CHROMIUM" >&2; exit 1; }
else
  echo "The browser tests need Debian's Chromium at $CHROMIUM: run 'sudo apt-get install -y chromium', then make test again." >&2
  exit 1
fi
