#!/usr/bin/env bash
# Checks the AWS declaration (sst.config.ts + infra/aws) offline: no AWS account, no credentials.
#
# 1. Installs SST's platform (.sst/platform: its components and the Pulumi packages they pin)
#    with the sst and bun binaries from node_modules, unless the installed platform already
#    matches the sst version in node_modules. bun fetches the platform's packages from the npm
#    registry into a repo-local cache (.sst/bun-cache: .sst/ is ignored by git and by eslint).
# 2. Checks that the repo's @pulumi/pulumi and @pulumi/aws (used by the tests and, through
#    tsconfig.infra.json, for every type) are the versions the platform pins.
# 3. Type-checks sst.config.ts and infra/aws against .sst/platform/config.d.ts (tsconfig.infra.json).
# 4. Bundles sst.config.ts as `sst deploy` would (infra/aws/bundle-check.mjs).
#
# Usage: bash infra/aws/check.sh            # all of it
#        bash infra/aws/check.sh --prepare  # 1 and 2 only
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# 1. the platform
want="$(node -p "require('./node_modules/sst/package.json').version")"
have="$(cat .sst/platform/version 2>/dev/null || true)"
if [ "$want" != "$have" ] || [ ! -d .sst/platform/node_modules/@pulumi/aws ]; then
  bun="$root/node_modules/bun/bin/bun.exe"
  if ! "$bun" --version >/dev/null 2>&1; then
    echo "infra: $bun does not run (installed with --ignore-scripts?); run npm ci" >&2
    exit 1
  fi
  echo "infra: installing the SST $want platform into .sst/platform"
  SST_BUN_PATH="$bun" \
  SST_SKIP_DEPENDENCY_CHECK=1 \
  SST_TELEMETRY_DISABLED=1 \
  SST_STAGE="${SST_STAGE:-ci}" \
  XDG_CONFIG_HOME="$root/.xdg" \
  BUN_INSTALL_CACHE_DIR="$root/.sst/bun-cache" \
    ./node_modules/.bin/sst install
  echo
fi

# 2. one Pulumi version
node -e '
  const pinned = require("./.sst/platform/package.json").dependencies;
  const bad = ["@pulumi/pulumi", "@pulumi/aws"].filter((p) => {
    const ours = require(`./node_modules/${p}/package.json`).version;
    const theirs = String(pinned[p]).replace(/^v/, "");
    if (ours !== theirs) console.error(`infra: ${p} is ${ours} in package.json but SST pins ${theirs}; install ${p}@${theirs}`);
    return ours !== theirs;
  });
  process.exit(bad.length ? 1 : 0);
'
if [ "${1:-}" = "--prepare" ]; then exit 0; fi

# 3. types
./node_modules/.bin/tsc -p tsconfig.infra.json --noEmit

# 4. the bundle
node infra/aws/bundle-check.mjs
