#!/usr/bin/env bash
# Builds the Debian package with cargo-deb and checks it:
#   1. the files it installs (dpkg -x into a scratch root) are exactly packaging/files.txt;
#   2. the shipped units pass `systemd-analyze verify --recursive-errors=no`: the system units
#      with --root=<scratch root> (so /usr/bin/openclaw is the packaged binary), the user units
#      in a private mount namespace with the packaged binary overlaid on /usr/bin (systemd 252's
#      `--user verify` has no --root);
#   3. the packaged (release) binary loads no shared library but libc and libgcc_s: libm would be
#      mapped and relocated at every start for nothing (src/libm_symbols.rs; issue 15, idle RSS);
#   4. lintian reports no tag except those justified in packaging/README.md ("## lintian").
# Needs root (for the mount namespace), cargo-deb, dpkg, lintian, systemd, binutils. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in cargo-deb dpkg-deb lintian systemd-analyze unshare readelf; do
    command -v "$tool" >/dev/null || {
        echo "check.sh: \`$tool\` is missing (cargo install cargo-deb --locked; apt-get install dpkg lintian systemd util-linux binutils)" >&2
        exit 1
    }
done

out=target/packaging
mkdir -p "$out"
deb="$out/openclaw.deb"
rm -f "$deb"
cargo deb --locked --output "$deb"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
root="$scratch/root"
dpkg-deb -x "$deb" "$root"

# 1. File list.
(cd "$root" && find . -type f -o -type l) | sed 's|^\./||' | sort >"$scratch/actual"
grep -v '^#' packaging/files.txt | sed '/^$/d' | sort >"$scratch/expected"
if ! diff -u "$scratch/expected" "$scratch/actual"; then
    echo "check.sh: the .deb's files differ from packaging/files.txt (- expected, + shipped)" >&2
    exit 1
fi
[[ -x "$root/usr/bin/openclaw" ]] || { echo "check.sh: /usr/bin/openclaw is not executable" >&2; exit 1; }
"$root/usr/bin/openclaw" --version

# 2. The units.
systemd-analyze verify --recursive-errors=no --root="$root" \
    "$root/usr/lib/systemd/system/openclaw-gateway.service" \
    "$root/usr/lib/systemd/system/openclaw-gateway.socket"
mkdir -m 0700 "$scratch/run"
unshare --mount --propagation private /bin/sh -ec '
    mount -t overlay check-deb -o "lowerdir=$1/usr/bin:/usr/bin" /usr/bin
    XDG_RUNTIME_DIR="$2" systemd-analyze --user verify --recursive-errors=no \
        "$1/usr/lib/systemd/user/openclaw-gateway.service" \
        "$1/usr/lib/systemd/user/openclaw-gateway.socket"
' sh "$root" "$scratch/run"
echo "check.sh: systemd-analyze verify: the user and system units are clean"

# 3. Shared libraries.
needed=$(readelf -d -W "$root/usr/bin/openclaw" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [[ "$needed" != "libc.so.6 libgcc_s.so.1 " ]]; then
    echo "check.sh: /usr/bin/openclaw needs: $needed(expected only libc.so.6 libgcc_s.so.1); find the new" \
        "libm call with \`nm -D --undefined-only\` and avoid it or define it as src/libm_symbols.rs does" >&2
    exit 1
fi
echo "check.sh: shared libraries: $needed"

# 4. lintian: every tag must be listed (as `- \`tag\`: why`) under "## lintian" in the README.
allowed=$(sed -n '/^## lintian/,/^## /p' packaging/README.md | sed -n 's/^- `\([a-z0-9-]*\)`.*/\1/p')
lintian_rc=0
lintian --tag-display-limit 0 "$deb" >"$scratch/lintian" 2>&1 || lintian_rc=$?
cat "$scratch/lintian"
# 0: no error tags, 1: error tags (judged below), anything else: lintian itself failed.
((lintian_rc <= 1)) || { echo "check.sh: lintian failed (exit $lintian_rc)" >&2; exit 1; }
unexpected=0
while read -r line; do
    [[ "$line" =~ ^[EWIPX]:\ [^:]+:\ ([a-z0-9-]+) ]] || continue
    tag=${BASH_REMATCH[1]}
    if ! grep -qx -- "$tag" <<<"$allowed"; then
        echo "check.sh: lintian tag not justified in packaging/README.md: $line" >&2
        unexpected=1
    fi
done <"$scratch/lintian"
((unexpected == 0)) || exit 1
echo "check.sh: $deb is OK"
