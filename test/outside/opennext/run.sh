#!/usr/bin/env bash
# Runs OpenNext's packages/tests-e2e (Playwright, Debian's Chromium) against one set of URLs.
# usage: run.sh <opennextjs-aws work tree> <label> <app-router url> <pages-router url> <app-pages-router url> [playwright args…]
# writes <label>.json (Playwright's JSON report) in the current directory.
set -euo pipefail
here=$(dirname "$(realpath "$0")")
src=$(realpath "$1"); label=$2; out=$PWD/$label.json
export APP_ROUTER_URL=$3 PAGES_ROUTER_URL=$4 APP_PAGES_ROUTER_URL=$5
shift 5
cd "$src/packages/tests-e2e"
# Playwright only, at the version the suite pins (its other devDependencies are for its CI).
[ -x node_modules/.bin/playwright ] || npm install --no-save --no-audit --no-fund --loglevel=error @playwright/test@1.49.1
cp "$here/playwright.config.mjs" ./shiplog-outside.config.mjs
PW_JSON=$out NODE_OPTIONS="--import $here/localhost-dns.mjs" \
  npx playwright test -c shiplog-outside.config.mjs --retries="${RETRIES:-2}" "$@" || true
echo "report: $out"
