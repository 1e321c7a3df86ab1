#!/usr/bin/env bash
# Runs every cargo-fuzz target for N seconds each (default 600), one after another.
#
#   fuzz/run.sh [seconds] [target...]
#
# Stable toolchain: cargo-fuzz needs nightly-only flags, RUSTC_BOOTSTRAP=1 allows them.
# Single job, nice 19: the machine is shared. Committed seeds (fuzz/corpus/<target>) are read;
# new inputs go to fuzz/target/corpus/<target> (ignored by git). A crash leaves its input in
# fuzz/artifacts/<target>/ and stops the script with a non-zero status.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1 CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
nice -n 19 cargo fuzz build
for target in "${targets[@]}"; do
    mkdir -p "target/corpus/$target"
    echo "== $target: ${seconds}s"
    # No -jobs/-workers: libFuzzer's default is one fuzzing process (-jobs would fork workers).
    status=0
    nice -n 19 cargo fuzz run "$target" "target/corpus/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"target/$target.log" 2>&1 || status=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|panicked|ERROR|SUMMARY' \
        "target/$target.log" || true
    if [ "$status" -ne 0 ]; then
        echo "$target: exit $status (see fuzz/target/$target.log and fuzz/artifacts/$target/)" >&2
        exit "$status"
    fi
done
