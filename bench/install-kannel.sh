#!/bin/sh
# install-kannel.sh -- install Debian's kannel package (bearerbox, smsbox) for
# bench/kannel_bench.py. Idempotent: does nothing when both are already there.
# Needs root (or sudo) and Debian's package archive. Does not leave Kannel's
# own system service running: the bench starts its own boxes with its own
# configuration on free ports.
set -eu
if command -v bearerbox >/dev/null 2>&1 && command -v smsbox >/dev/null 2>&1; then
    exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
# Keep the package's init script from starting the stock service on install.
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod +x "$POLICY"
    ADDED_POLICY=1
fi
cleanup() { if [ -n "$ADDED_POLICY" ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT
if ! $SUDO apt-get install -y --no-install-recommends kannel; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends kannel
fi
command -v bearerbox >/dev/null 2>&1 && command -v smsbox >/dev/null 2>&1 || {
    echo "install-kannel.sh: bearerbox/smsbox not found after installing kannel" >&2
    exit 1
}
