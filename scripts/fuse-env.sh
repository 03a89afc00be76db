#!/usr/bin/env bash
# Usage: scripts/fuse-env.sh
#
# Makes sure the FUSE user-space tools are installed for the power-cut tests
# (tests/powercut_recovery.rs, crate tests/powercut): when `fusermount3` is missing and we are
# root, installs Debian's `fuse3` package (apt-get update + install, once; later calls find
# fusermount3 and return at once). A lock serializes concurrent callers (parallel tests).
#
# Exits 0 when fusermount3 is present, non-zero with the reason on stderr otherwise. The tests
# check root and /dev/fuse themselves and skip on failure, unless CI=true (then they fail).
set -euo pipefail

die() {
    echo "fuse-env.sh: $*" >&2
    exit 1
}

have() {
    command -v fusermount3 >/dev/null 2>&1
}

have && exit 0
[[ $(id -u) -eq 0 ]] || die "fusermount3 is missing and we are not root: install Debian's fuse3"
command -v apt-get >/dev/null 2>&1 || die "fusermount3 is missing and there is no apt-get"

exec 9>"${TMPDIR:-/tmp}/tessera-fuse-env.lock"
flock 9
# Another caller may have installed it while we waited for the lock.
if ! have; then
    echo "fuse-env.sh: installing fuse3 (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq fuse3 >&2 || die "apt-get install fuse3 failed"
    have || die "fuse3 installed but fusermount3 is still missing"
fi
flock -u 9
