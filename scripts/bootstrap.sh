#!/usr/bin/env bash
# Source this file: puts Node.js 24 and pnpm on PATH, installing them from the npm registry into
# .tools/ when the machine's Node is older (the project's machines carry Node 20).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
NODE_MAJOR=24
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$ROOT/package.json")"

node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$TOOLS/node_modules/.bin/node" ]; then export PATH="$TOOLS/node_modules/.bin:$PATH"; fi
if [ "$(node_major)" -lt "$NODE_MAJOR" ] || ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing node@$NODE_MAJOR and pnpm@$PNPM_VERSION into .tools/" >&2
  npm install --no-audit --no-fund --loglevel=error --prefix "$TOOLS" "node@$NODE_MAJOR" "pnpm@$PNPM_VERSION" >&2
  export PATH="$TOOLS/node_modules/.bin:$PATH"
fi
echo "bootstrap: node $(node --version), pnpm $(pnpm --version)" >&2
