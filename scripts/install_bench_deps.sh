#!/usr/bin/env bash
# Installs what `deno task bench:compare` (bench/compare.ts) needs, idempotently:
#   - Debian `prosody` (0.12) and `ejabberd` (23.01, with its Erlang runtime): the bench runs
#     private instances of both on loopback, in temporary folders, started directly (never
#     through the system services, /etc/prosody, /etc/ejabberd or ejabberdctl).
# The system services are left alone: while this script installs, Debian's policy-rc.d
# mechanism keeps the packages' post-install scripts from starting them; nothing here stops,
# disables or reconfigures a service that already exists.
# Usage: bash scripts/install_bench_deps.sh   (as root, or with sudo available for apt-get)
set -euo pipefail

die() {
  echo "install_bench_deps: ERROR: $*" >&2
  exit 1
}
log() { echo "install_bench_deps: $*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
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
# first attempt fails (stale lists give 404s). Same logic as scripts/install_test_deps.sh.
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

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

MISSING=()
installed prosody && command -v prosody >/dev/null 2>&1 || MISSING+=(prosody)
installed ejabberd && command -v erl >/dev/null 2>&1 || MISSING+=(ejabberd)

if [ "${#MISSING[@]}" -eq 0 ]; then
  log "prosody $(dpkg-query -W -f='${Version}' prosody) and ejabberd" \
    "$(dpkg-query -W -f='${Version}' ejabberd) already installed"
else
  command -v apt-get >/dev/null 2>&1 || die "${MISSING[*]} missing and apt-get is not available"
  if [ -n "$SUDO" ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot run apt-get"
  fi
  # Keep the post-install scripts from starting the system services (policy-rc.d, exit 101:
  # "action forbidden"). Only added when absent, and removed again on exit.
  POLICY=/usr/sbin/policy-rc.d
  ADDED_POLICY=0
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    ADDED_POLICY=1
    trap '[ "$ADDED_POLICY" -eq 1 ] && $SUDO rm -f "$POLICY"' EXIT
  fi
  log "installing ${MISSING[*]}"
  apt_install "${MISSING[@]}"
  if [ "$ADDED_POLICY" -eq 1 ]; then
    $SUDO rm -f "$POLICY"
    ADDED_POLICY=0
  fi
fi

command -v prosody >/dev/null 2>&1 || die "prosody binary missing after apt-get install"
command -v erl >/dev/null 2>&1 || die "erl (Erlang runtime) missing after apt-get install ejabberd"
dpkg -L ejabberd 2>/dev/null | grep -q '/ebin/ejabberd.app$' ||
  die "ejabberd's Erlang application (ebin/ejabberd.app) not found: dpkg -L ejabberd"
command -v getconf >/dev/null 2>&1 || die "getconf is required (CPU clock ticks)"
log "prosody $(dpkg-query -W -f='${Version}' prosody)," \
  "ejabberd $(dpkg-query -W -f='${Version}' ejabberd)," \
  "erlang $(dpkg-query -W -f='${Version}' erlang-base 2>/dev/null || echo '?'): ready"
