#!/usr/bin/env bash
# Usage: scripts/python-env.sh VERSION
#
# Creates (once) a virtualenv holding mosaicolabs==VERSION, pytest and their pinned
# dependencies, as listed in tests/python/requirements-VERSION.txt, under
# target/python/venv-VERSION/, and prints the venv's python path as the last line of stdout.
#
# Idempotent and cached: the venv carries a marker file with a sha256 of the requirement
# list, the interpreter that built it and this script's layout version. When the marker
# matches, nothing is installed and the script returns at once. When it does not (first run,
# a changed pin, another python3), the venv is rebuilt from scratch. A per-version lock
# (flock) lets concurrent callers (parallel cargo tests) share one build.
#
# Environment:
#   TESSERA_PYTHON   interpreter used to create the venv (default: python3)
#
# Exits non-zero with a message on stderr when python3, venv or pip is unusable: the Rust
# interop tests turn that into a failure, never a skip.
set -euo pipefail

# Bump when the venv layout or install command changes, to force a rebuild.
LAYOUT_VERSION=1

die() {
    echo "python-env.sh: $*" >&2
    exit 1
}

[[ $# -eq 1 ]] || die "usage: scripts/python-env.sh VERSION (e.g. 0.7.0)"
version=$1
[[ $version =~ ^[0-9A-Za-z][0-9A-Za-z.+-]*$ ]] || die "invalid version '$version'"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
requirements="$root/tests/python/requirements-$version.txt"
[[ -f $requirements ]] || die "no requirement list $requirements"

python=${TESSERA_PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 ||
    die "'$python' not found: install Python 3 (with venv and pip) to run the SDK interop tests"
interpreter=$("$python" -c 'import sys; print(sys.executable, sys.version.replace("\n", " "))') ||
    die "'$python' does not run"

base="$root/target/python"
venv="$base/venv-$version"
marker="$venv/.tessera-requirements.sha256"
mkdir -p "$base"

fingerprint=$(
    {
        echo "layout $LAYOUT_VERSION"
        echo "interpreter $interpreter"
        cat "$requirements"
    } | sha256sum | cut -d' ' -f1
)

is_current() {
    [[ -x "$venv/bin/python" && -f $marker && "$(cat "$marker")" == "$fingerprint" ]]
}

if ! is_current; then
    exec 9>"$base/venv-$version.lock"
    flock 9
    # Another caller may have built it while we waited for the lock.
    if ! is_current; then
        echo "python-env.sh: building $venv (mosaicolabs==$version)" >&2
        started=$SECONDS
        rm -rf "$venv"
        "$python" -m venv "$venv" >&2 ||
            die "'$python -m venv' failed (on Debian: apt-get install python3-venv)"
        "$venv/bin/python" -m pip install --disable-pip-version-check -q \
            -r "$requirements" >&2 ||
            die "pip install -r $requirements failed"
        # The marker is written last: an interrupted build is rebuilt next time.
        echo "$fingerprint" >"$marker.tmp"
        mv "$marker.tmp" "$marker"
        echo "python-env.sh: built $venv in $((SECONDS - started)) s" >&2
    fi
    flock -u 9
fi

echo "$venv/bin/python"
