#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine of this project's kind, each piece
# only when it is missing (so a second run takes a second):
#   - Debian packages: a real `systemd --user` manager and user D-Bus, util-linux/mount/passwd
#     tools, python3, iproute2, lintian/dpkg-dev/binutils for the .deb check, g++ for libFuzzer,
#     npm (with Node.js) for the reference CLI;
#   - cargo-deb (crates.io), for packaging/deb/check.sh;
#   - the published reference OpenClaw CLI (npm registry, ≈800 MB, about 30 s) into
#     $OPENCLAW_REFERENCE_DIR (default ~/.cache/openclaw/reference), for tests/reference_cli.rs
#     and bench/run.sh;
#   - the official OpenAI Python SDK (PyPI) into $OPENCLAW_TEST_PYTHON_DIR (default
#     ~/.cache/openclaw/python: `site/` for PYTHONPATH, `interpreter` names the python it is
#     for), for tests/openai_api.rs.
# Called by tests/run.sh (the README's test command); needs root (or sudo) for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
# tests/support/systemd_harness.rs runs a real `systemd --user` manager: it needs systemd, the
# user bus (dbus-user-session, which pulls in dbus), util-linux/mount/passwd tools, and
# /usr/bin/python3 for the socket-activation smoke service.
if [[ ! -x /lib/systemd/systemd ]] || ! command -v systemctl >/dev/null || ! command -v busctl >/dev/null; then
    apt_packages+=(systemd)
fi
if [[ ! -e /usr/lib/systemd/user/dbus.socket ]] || ! command -v dbus-daemon >/dev/null; then
    apt_packages+=(dbus dbus-user-session)
fi
for tool in unshare nsenter setpriv flock timeout; do
    command -v "$tool" >/dev/null || { apt_packages+=(util-linux coreutils); break; }
done
command -v mount >/dev/null || apt_packages+=(mount)
[[ -x /usr/sbin/useradd ]] || apt_packages+=(passwd)
[[ -x /usr/bin/python3 ]] || apt_packages+=(python3)
# tests/packaged_units.rs gives the harness a private network namespace (`ip link set lo up`).
command -v ip >/dev/null || apt_packages+=(iproute2)
# packaging/deb/check.sh: lintian, and dpkg-dev for cargo-deb's dpkg-shlibdeps ($auto depends).
command -v lintian >/dev/null || apt_packages+=(lintian)
command -v dpkg-shlibdeps >/dev/null || apt_packages+=(dpkg-dev)
command -v readelf >/dev/null || apt_packages+=(binutils)
# fuzz/ links libFuzzer (libfuzzer-sys builds it from C++ source).
command -v c++ >/dev/null || apt_packages+=(g++)
# tests/compat/install-reference.sh installs the reference with npm.
command -v npm >/dev/null || apt_packages+=(npm)
# tests/openai_api.rs: the OpenAI SDK needs a python3 with pip; curl -N streams.
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 || apt_packages+=(python3 python3-pip)
command -v curl >/dev/null || apt_packages+=(curl)
# tests/control_ui_browser.rs: headless Chromium driven over WebDriver (chromedriver).
[[ -x /usr/bin/chromium ]] || apt_packages+=(chromium)
[[ -x /usr/bin/chromedriver ]] || apt_packages+=(chromium-driver)

if ((${#apt_packages[@]})); then
    sudo=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || {
            echo "tests/setup.sh: missing Debian packages (${apt_packages[*]}) and not root:" \
                "install them as root, or run this script as root" >&2
            exit 1
        }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

command -v cargo-deb >/dev/null || cargo install cargo-deb --locked

reference_dir=${OPENCLAW_REFERENCE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openclaw/reference}
tests/compat/install-reference.sh "$reference_dir" >/dev/null

cache=${XDG_CACHE_HOME:-$HOME/.cache}/openclaw
python_dir=${OPENCLAW_TEST_PYTHON_DIR:-$cache/python}
OPENAI_SDK_VERSION="3.63.0"
# Selenium 4.52+ needs certifi >= 2026.10.23, which the package index reachable here lacks.
SELENIUM_VERSION="4.51.0"
if ! { [[ -f $python_dir/interpreter ]] &&
    PYTHONPATH=$python_dir/site "$(cat "$python_dir/interpreter")" -c \
        "import openai, selenium, sys; sys.exit(openai.__version__ != '$OPENAI_SDK_VERSION' or selenium.__version__ != '$SELENIUM_VERSION')" 2>/dev/null; }; then
    interpreter=$(python3 -c 'import sys; print(sys.executable)')
    rm -rf "$python_dir"
    mkdir -p "$python_dir"
    packages=("openai==$OPENAI_SDK_VERSION" "selenium==$SELENIUM_VERSION")
    # Debian's pip refuses to touch the system site (PEP 668); --target writes only here.
    "$interpreter" -m pip install --quiet --disable-pip-version-check --break-system-packages \
        --target "$python_dir/site" "${packages[@]}" 2>/dev/null ||
        "$interpreter" -m pip install --quiet --disable-pip-version-check \
            --target "$python_dir/site" "${packages[@]}"
    echo "$interpreter" > "$python_dir/interpreter"
fi
