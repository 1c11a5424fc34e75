#!/usr/bin/env bash
# Turns OpenNext's example apps (a pnpm workspace) into three standalone npm repos that shiplog
# and `next start` can both run: catalog:/workspace:* deps resolved, @example/shared packed as a
# tarball inside each app, the AWS/SST-only files and deps dropped. See README.md.
# usage: prepare.sh <opennextjs-aws work tree> <out dir> [next version; default: the catalog's pin]
set -euo pipefail
src=$(realpath "$1"); out=$2; next=${3:-}
mkdir -p "$out"; out=$(realpath "$out")
# The workspace catalog as JSON ({"next": "16.2.6", …}), with Next pinned to what installs here.
catalog=$(node -e '
  const t = require("fs").readFileSync(process.argv[1], "utf8").split("catalog:")[1];
  const c = {};
  for (const m of t.matchAll(/^\s+"?([@\w\/.-]+)"?:\s*([\w.^~-]+)\s*$/gm)) c[m[1]] = m[2];
  if (process.argv[2]) c.next = process.argv[2];
  console.log(JSON.stringify(c));' "$src/pnpm-workspace.yaml" "$next")
resolve='
  const fs = require("fs"); const [file, catalog, shared] = process.argv.slice(1);
  const c = JSON.parse(catalog); const p = JSON.parse(fs.readFileSync(file, "utf8"));
  const drop = new Set(["@opennextjs/aws", "express-http-proxy", "@types/express-http-proxy", "tsx"]);
  for (const k of ["dependencies", "devDependencies"]) for (const [n, v] of Object.entries(p[k] ?? {})) {
    if (drop.has(n)) delete p[k][n];
    else if (n === "@example/shared") p[k][n] = shared;
    else if (v === "catalog:") p[k][n] = c[n];
  }
  fs.writeFileSync(file, JSON.stringify(p, null, 2) + "\n");'
rm -rf "$out/shared"; cp -r "$src/examples/shared" "$out/shared"; rm -rf "$out/shared/node_modules"
node -e "$resolve" "$out/shared/package.json" "$catalog" ''
tarball=$(cd "$out/shared" && npm pack --silent --pack-destination "$out")
for app in app-router pages-router app-pages-router; do
  d=$out/$app; rm -rf "$d"; mkdir -p "$d"
  (cd "$src/examples/$app" && tar --exclude=node_modules --exclude=.next --exclude=.open-next -cf - .) | tar -xf - -C "$d"
  cp "$out/$tarball" "$d/"
  node -e "$resolve" "$d/package.json" "$catalog" "file:./$tarball"
  # AWS/SST-only: the local OpenNext configs (express-dev wrapper, fs-dev caches), the local proxy, sst types.
  rm -f "$d/open-next.config.local.ts" "$d/on-proxy.ts" "$d/sst-env.d.ts"
  # `npx turbo build` exists only in the monorepo: next build is the build.
  sed -i '/buildCommand:/d' "$d/open-next.config.ts"
  # Tailwind scans the shared components where the monorepo keeps them: here they are a package.
  sed -i 's#"../../examples/shared/#"./node_modules/@example/shared/#' "$d"/tailwind.config.ts "$d"/postcss.config.js 2>/dev/null || true
  # In the workspace @example/shared is a link outside node_modules, which Next compiles; as a package it must be named.
  grep -q transpilePackages "$d/next.config.ts" || sed -i 's/^const nextConfig: NextConfig = {$/&\n  transpilePackages: ["@example\/shared"],/' "$d/next.config.ts"
  # No internet here: pages that fetch opennext.js.org / sst.dev (at build and request time) get a
  # response with only a date header when the fetch fails, as it does for both servers alike.
  { grep -rlE 'fetch\("https://(opennext\.js\.org|sst\.dev)"' "$d" --include=*.tsx --include=*.ts --exclude-dir=node_modules || true; } \
    | xargs -r perl -0pi -e 's/await fetch\(("https:\/\/(?:opennext\.js\.org|sst\.dev)")(.*?)\);/await fetch($1$2).catch(() => new Response(null, { headers: { date: new Date().toUTCString() } }));/gs'
  # No internet here: next/font/google cannot fetch Inter (both builds would fail alike).
  if [ -f "$d/app/layout.tsx" ]; then
    sed -i -e '/from "next\/font\/google"/d' -e 's/^const inter = Inter(.*$/const inter = { className: "" };/' "$d/app/layout.tsx"
  fi
  printf 'node_modules\n.next\n.open-next\n*.tsbuildinfo\nnext-env.d.ts\n' > "$d/.gitignore"
  (cd "$d" && npm install --no-audit --no-fund --loglevel=error >/dev/null \
    && git init -q -b main && git add -A && git -c user.email=e2e@example.com -c user.name=e2e commit -qm "$app from opennextjs-aws $(git -C "$src" rev-parse --short HEAD)")
  echo "prepared $d"
done
