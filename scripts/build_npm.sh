#!/usr/bin/env bash
# Builds the npm package `xmpp-websocket` into dist/npm (or --out <dir>), with esbuild and tsc
# installed by npm into .cache/build_npm (or --cache <dir>, or $XMPP_WS_BUILD_CACHE).
# Needs Node 20 or later and npm; no Deno. See scripts/build_npm.mjs.
#   bash scripts/build_npm.sh && (cd dist/npm && npm pack)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "build_npm: node is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "build_npm: npm is required" >&2; exit 1; }
exec node scripts/build_npm.mjs "$@"
