#!/usr/bin/env bash
# One command: build release, run the systemd harness's restart-under-load test (ours only, needs
# root), benchmark our gateway (and the reference OpenClaw gateway when installed) in alternating
# runs, and write BENCHMARKS.md at the repository root.
#
#   bench/run.sh [extra harness options, e.g. --runs 7 or --health-secs 3]
#
# Reference: OPENCLAW_REFERENCE_BIN=<launcher> (default: the one tests/setup.sh installs,
# $OPENCLAW_REFERENCE_DIR/bin/openclaw, else ~/.cache/openclaw/reference/bin/openclaw);
# install it with tests/compat/install-reference.sh (≈800 MB from the npm registry).
# OPENCLAW_REFERENCE_BIN= (empty) forces an ours-only run.
# Loopback only; everything is bounded (≈18 min with the reference, ≈6 min without). Ctrl-C
# stops the harness, which kills the gateways it started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DEFAULT_REF="${OPENCLAW_REFERENCE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openclaw/reference}/bin/openclaw"
if [ -n "${OPENCLAW_REFERENCE_BIN+set}" ]; then
  REF="$OPENCLAW_REFERENCE_BIN"
else
  REF=""
  [ -x "$DEFAULT_REF" ] && REF="$DEFAULT_REF"
fi
if [ -n "${OPENCLAW_REFERENCE_BIN+set}" ]; then
  MISSING="OPENCLAW_REFERENCE_BIN was set empty (ours-only run)"
else
  MISSING="not installed (OPENCLAW_REFERENCE_BIN unset and no $DEFAULT_REF)"
fi
if [ -n "$REF" ] && [ ! -x "$REF" ]; then
  echo "bench/run.sh: OPENCLAW_REFERENCE_BIN=$REF is not executable" >&2
  MISSING="OPENCLAW_REFERENCE_BIN=$REF is not an executable launcher"
  REF=""
fi
if [ -n "$REF" ]; then
  REF_ARGS=(--reference "$REF")
else
  cat >&2 <<MSG
bench/run.sh: the reference gateway will not run; its column will read "not run".
  To include it: tests/compat/install-reference.sh   (downloads ≈800 MB from npm, about 30 s)
  then run bench/run.sh again.
MSG
  REF_ARGS=(--reference "" --reference-missing "$MISSING; install it with tests/compat/install-reference.sh")
fi

# 10,000 idle connections need ≈10,500 descriptors in the harness and in the gateway (which
# inherits the limit): raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10600 ]; then
  echo "bench/run.sh: RLIMIT_NOFILE is $(ulimit -n); the 10,000-connection level will fail (raise the hard limit)" >&2
fi

echo "== cargo build --release" >&2
cargo build --release --locked
echo "== cargo bench --bench gateway --no-run" >&2
cargo bench --bench gateway --locked --no-run

# Restart under load (ours only: the reference has no socket activation): the systemd harness
# test (a real private `systemd --user`, needs root) restarts the socket-activated gateway 5 times
# while 4 clients connect in a loop and prints a `BENCH key=value …` line; the harness reports it.
RESTART_TEST=(cargo test --release --locked --test systemd_backend
  restarts_with_socket_activation_refuse_no_connection -- --nocapture --exact)
RESTART_FIGURES=target/bench/restart-figures.txt
mkdir -p target/bench
echo "== ${RESTART_TEST[*]}" >&2
if timeout --signal=TERM --kill-after=30 10m "${RESTART_TEST[@]}" >target/bench/restart-test.log 2>&1; then
  RESTART_STATUS="passed"
else
  RESTART_STATUS="FAILED (exit $?)"
fi
echo "== restart test $RESTART_STATUS (log: target/bench/restart-test.log)" >&2
{
  grep '^BENCH ' target/bench/restart-test.log || true
  # Why there is no BENCH line (harness skipped, build or test failure), for the report.
  grep -m1 -E '^SKIPPED|panicked|^error' target/bench/restart-test.log || true
  echo "restart test $RESTART_STATUS"
} >"$RESTART_FIGURES"

COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! git diff --quiet HEAD -- src Cargo.toml Cargo.lock benches 2>/dev/null; then
  COMMIT="$COMMIT + uncommitted changes"
fi
HARNESS=(cargo bench --bench gateway --locked -- --ours target/release/openclaw "${REF_ARGS[@]}"
  --restart-figures "$RESTART_FIGURES"
  --out BENCHMARKS.md --json target/bench/results.json --notes bench/NOTES.md "$@")
QUOTED="$(printf '%q ' "${HARNESS[@]}")"
INVOCATION="$(printf '%s\n' \
  "bench/run.sh $*" \
  "# which runs (with ulimit -n $(ulimit -n)):" \
  "cargo build --release --locked" \
  "cargo bench --bench gateway --locked --no-run" \
  "$(printf '%q ' "${RESTART_TEST[@]}") > target/bench/restart-test.log  # BENCH line → $RESTART_FIGURES" \
  "$QUOTED")"

echo "== $QUOTED" >&2
# Hard stop well past the expected duration (≈ 40 min with the reference: its HTTP and agent
# scenarios dominate); SIGTERM makes the harness kill its gateways.
timeout --signal=TERM --kill-after=30 55m "${HARNESS[@]}" --invocation "$INVOCATION" --commit "$COMMIT"
echo "== wrote $ROOT/BENCHMARKS.md (raw per-run values: target/bench/results.json)" >&2
