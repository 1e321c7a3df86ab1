#!/usr/bin/env bash
# Runs the published reference OpenClaw CLI (openclaw@2026.9.6) as a client against OUR gateway
# and checks that its commands succeed. Run by hand, never in CI: the reference needs ~800 MB
# (install it with tests/compat/install-reference.sh).
#
#   tests/compat/run-reference-cli.sh [REFERENCE_LAUNCHER]   (default /work/ref/bin/openclaw)
#
# Exit status: 0 when every check passed; the number of failed checks otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."
ref=${1:-${OPENCLAW_REFERENCE_BIN:-/work/ref/bin/openclaw}}
[ -x "$ref" ] || { echo "reference CLI not found at $ref; install it with tests/compat/install-reference.sh" >&2; exit 2; }
cargo build --release --quiet || exit 2
ours=$PWD/target/release/openclaw
scratch=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=compat-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
HOME=$scratch/ours OPENCLAW_GATEWAY_TOKEN=$token "$ours" gateway run --allow-unconfigured --port "$port" \
    2>"$scratch/gateway.log" &
gw=$!
trap 'kill $gw 2>/dev/null; wait $gw 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done

# The reference CLI runs in its own scratch home so it reads nothing of ours.
mkdir -p "$scratch/ref"
refcli() { HOME=$scratch/ref OPENCLAW_STATE_DIR=$scratch/ref/state OPENCLAW_DISABLE_BONJOUR=1 \
    OPENCLAW_NO_AUTO_UPDATE=1 timeout 60 "$ref" "$@"; }
url=ws://127.0.0.1:$port
failed=0
check() {  # check NAME EXPECTED_EXIT GREP_PATTERN -- COMMAND...
    local name=$1 want=$2 pattern=$3; shift 4
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" = "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
        echo "ok   $name"
    else
        echo "FAIL $name (exit $rc, wanted $want, pattern /$pattern/)"; sed 's/^/     | /' <<<"$out" | head -20
        failed=$((failed + 1))
    fi
}
check "gateway call health --json"          0 '"ok": true'             -- refcli gateway call health --url "$url" --token "$token" --json
check "gateway call system-presence --json" 0 '"mode": "gateway"'      -- refcli gateway call system-presence --url "$url" --token "$token" --json
check "gateway call status --json"          0 '"runtimeVersion"'       -- refcli gateway call status --url "$url" --token "$token" --json
check "gateway health"                      0 '^OK'                    -- refcli gateway health --url "$url" --token "$token"
check "gateway health --json"               0 '"ok": true'             -- refcli gateway health --url "$url" --token "$token" --json
check "logs --limit 5"                      0 'listening on ws://'     -- refcli logs --url "$url" --token "$token" --limit 20
check "logs --json"                         0 '"type":"meta"'          -- refcli logs --url "$url" --token "$token" --limit 5 --json
check "unknown method exits 1"              1 'unknown method'         -- refcli gateway call no.such.method --url "$url" --token "$token" --json
check "wrong token exits 1"                 1 'gateway token mismatch' -- refcli gateway call health --url "$url" --token wrong --json
echo "$failed check(s) failed"
exit "$failed"
