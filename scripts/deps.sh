#!/bin/sh
# deps.sh PACKAGE... - make sure these Debian packages are installed.
# As root, installs the missing ones with apt-get; otherwise prints the exact
# command to run and fails, so that `make` never half-builds.
set -eu
missing=""
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    exit 0
fi
echo "deps: missing Debian packages:$missing" >&2
echo "deps: run: sudo apt-get install -y$missing" >&2
exit 1
