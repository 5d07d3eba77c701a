#!/usr/bin/env bash
# install-deps.sh -- install the Debian packages shortcoded needs to build, test and demo.
# Idempotent: does nothing (and needs no network) when everything is already installed.
set -euo pipefail

PKGS=(
  build-essential pkg-config meson ninja-build
  libsmpp34-dev libhiredis-dev libyaml-dev libuv1-dev libunistring-dev libjansson-dev
  libcmocka-dev redis-server redis-tools libmicrohttpd-dev
  clang libclang-rt-14-dev valgrind
  libnet-smpp-perl perl python3 python3-prometheus-client
  libssl-dev
  # The Debian package and its test (tests/integration/test_package.py).
  debhelper dpkg-dev devscripts fakeroot lintian systemd man-db adduser
  libcurl4-openssl-dev
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
