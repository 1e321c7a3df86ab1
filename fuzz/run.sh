#!/usr/bin/env bash
# Runs every cargo-fuzz target for N seconds each (default 600), one after another.
#
#   fuzz/run.sh [seconds] [target...]
#   fuzz/run.sh --seeds     # CI: plain stable build, every committed seed through every target
#
# Stable toolchain: cargo-fuzz needs nightly-only flags, RUSTC_BOOTSTRAP=1 allows them.
# Builds once (`cargo fuzz build`; FUZZ_SKIP_BUILD=1 fuzzes the binaries already built), then
# runs the built binaries directly, so editing the sources meanwhile cannot trigger a rebuild
# in the middle of the series. Single process per target (libFuzzer's default; -jobs would
# fork workers), nice 19: the machine is shared. Committed seeds (fuzz/corpus/<target>) are
# read; new inputs go to fuzz/target/corpus/<target> (ignored by git). A crash leaves its
# input in fuzz/artifacts/<target>/ and stops the script with a non-zero status.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${1:-}" = --seeds ]; then
    # No cargo-fuzz, no sanitizers, no coverage: the targets build on stable and every seed
    # runs through them once (-runs=0 replays the corpus), so a target that no longer builds
    # or a seed that now crashes fails CI.
    cargo build --locked --bins
    for dir in corpus/*/; do
        target="$(basename "$dir")"
        echo "== $target: seeds"
        "target/debug/$target" -runs=0 "$dir"
    done
    exit 0
fi
seconds="${1:-600}"
shift || true
targets=("$@")
export RUSTC_BOOTSTRAP=1 CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
    nice -n 19 cargo fuzz build
fi
bin_dir="target/$(rustc -vV | sed -n 's/^host: //p')/release"
for target in "${targets[@]}"; do
    mkdir -p "target/corpus/$target" "artifacts/$target"
    echo "== $target: ${seconds}s ($(date -u +%H:%M:%S))"
    status=0
    nice -n 19 "$bin_dir/$target" -artifact_prefix="artifacts/$target/" \
        -max_total_time="$seconds" -print_final_stats=1 \
        "target/corpus/$target" "corpus/$target" >"target/$target.log" 2>&1 || status=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|panicked|ERROR|SUMMARY' \
        "target/$target.log" || true
    if [ "$status" -ne 0 ]; then
        echo "$target: exit $status (see fuzz/target/$target.log and fuzz/artifacts/$target/)" >&2
        exit "$status"
    fi
done
