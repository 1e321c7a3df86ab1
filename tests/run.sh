#!/usr/bin/env bash
# The whole test suite, the README's test command: installs what the tests need
# (tests/setup.sh), runs every cargo test with the systemd-harness tests mandatory, builds and
# checks the .deb, and replays the fuzz seeds. Exit 0 only when all of it passed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/setup.sh
# The tests against a real `systemd --user` manager must run, not skip.
export OPENCLAW_REQUIRE_SYSTEMD_HARNESS=1
cargo test --locked
# Build the .deb and check its files, units (systemd-analyze verify) and lintian tags.
packaging/deb/check.sh
# The fuzz targets build on stable and every committed seed runs through them (long fuzzing
# runs are by hand: fuzz/run.sh, see RELIABILITY.md).
fuzz/run.sh --seeds
