#!/usr/bin/env bash
# Installs what the interop tests need, idempotently:
#   - Debian `prosody` (a real RFC 6120 server; the tests run their own instance, never the
#     system service or /etc/prosody),
#   - `openssl` (self-signed test certificates),
#   - Debian `chromium` (the browser test runs the client bundle in it, headless; never a
#     browser downloaded by a test tool),
#   - pinned npm client libraries in tests/interop/node_clients/.
# Usage: bash scripts/install_test_deps.sh   (as root, or with sudo available for apt-get)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENTS="$ROOT/tests/interop/node_clients"

die() {
  echo "install_test_deps: ERROR: $*" >&2
  exit 1
}
log() { echo "install_test_deps: $*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot run apt-get"
  SUDO="sudo"
fi

APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
}

# Installs Debian packages; refreshes the lists only when a package has no candidate or the
# first attempt fails (stale lists give 404s).
apt_install() {
  local pkg
  for pkg in "$@"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt_update; fi
  done
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; then
    [ "$APT_UPDATED" -eq 0 ] || die "apt-get install $* failed"
    apt_update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" ||
      die "apt-get install $* failed"
  fi
}

# Stops a Prosody started by the package's post-install (the system service, /etc/prosody).
stop_system_prosody() {
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl stop prosody >/dev/null 2>&1 || true
    $SUDO systemctl disable prosody >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/prosody ]; then
    $SUDO /etc/init.d/prosody stop >/dev/null 2>&1 || true
  fi
  local pidfile pid
  for pidfile in /run/prosody/prosody.pid /var/run/prosody/prosody.pid; do
    if [ -f "$pidfile" ]; then
      pid="$(cat "$pidfile" 2>/dev/null || true)"
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        log "stopping the system Prosody (pid $pid)"
        $SUDO kill "$pid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.3; done
        kill -0 "$pid" 2>/dev/null && $SUDO kill -9 "$pid" 2>/dev/null || true
      fi
    fi
  done
}

# --- Prosody -------------------------------------------------------------------------------
if command -v prosody >/dev/null 2>&1; then
  log "prosody already installed ($(dpkg-query -W -f='${Version}' prosody 2>/dev/null || echo '?'))"
else
  command -v apt-get >/dev/null 2>&1 || die "prosody is missing and apt-get is not available"
  # Keep the post-install from starting the system service (Debian's policy-rc.d mechanism).
  POLICY=/usr/sbin/policy-rc.d
  ADDED_POLICY=0
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    ADDED_POLICY=1
    trap '[ "$ADDED_POLICY" -eq 1 ] && $SUDO rm -f "$POLICY"' EXIT
  fi
  log "installing prosody"
  apt_install prosody
  if [ "$ADDED_POLICY" -eq 1 ]; then $SUDO rm -f "$POLICY"; ADDED_POLICY=0; fi
  command -v prosody >/dev/null 2>&1 || die "prosody binary still missing after apt-get install"
  log "prosody $(dpkg-query -W -f='${Version}' prosody) installed"
fi
# In case the service was started anyway (by this run or an earlier install).
stop_system_prosody

# --- openssl -------------------------------------------------------------------------------
if ! command -v openssl >/dev/null 2>&1; then
  log "installing openssl"
  apt_install openssl
  command -v openssl >/dev/null 2>&1 || die "openssl binary still missing after apt-get install"
fi

# --- Chromium ------------------------------------------------------------------------------
# tests/browser/ launches /usr/bin/chromium itself (DevTools protocol, no npm driver).
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  log "chromium already installed ($(dpkg-query -W -f='${Version}' chromium 2>/dev/null || echo '?'))"
else
  command -v apt-get >/dev/null 2>&1 || die "chromium is missing and apt-get is not available"
  log "installing chromium"
  apt_install chromium
  [ -x "$CHROMIUM" ] || die "$CHROMIUM still missing after apt-get install chromium"
  log "chromium $(dpkg-query -W -f='${Version}' chromium) installed"
fi

# --- npm client libraries ------------------------------------------------------------------
command -v npm >/dev/null 2>&1 || die "npm is required for the client libraries"
if [ -d "$CLIENTS/node_modules" ] && [ -f "$CLIENTS/node_modules/.package-lock.json" ]; then
  log "npm client libraries already installed"
else
  log "installing npm client libraries into $CLIENTS"
  if [ -f "$CLIENTS/package-lock.json" ]; then
    (cd "$CLIENTS" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $CLIENTS"
  else
    (cd "$CLIENTS" && npm install --no-audit --no-fund --loglevel=error) ||
      die "npm install failed in $CLIENTS"
  fi
fi
for mod in @xmpp/client ws stanza strophe.js @xmldom/xmldom saxes; do
  [ -f "$CLIENTS/node_modules/$mod/package.json" ] || die "npm module $mod missing in $CLIENTS"
done
log "done"
