#!/usr/bin/env bash
# Usage: scripts/venv.sh oldest|newest   -> prints the path of that environment's python.
#
# The test environments `make test` runs the suite in, each in .venvs/NAME:
#   oldest  Python 3.10 with every runtime dependency at its declared lower bound
#           (scripts/constraints-oldest.txt: pandas 2.2.0, numpy 1.26.0, matplotlib 3.8.0, ...)
#   newest  the newest Python 3.x found on this machine with the newest releases of everything
# Both get `pip install -e ".[dev]"`, so an extra added to pyproject.toml reaches them
# (the `fast` extra, pycurl, included: scripts/test-envs.sh picks the transport backend).
# Idempotent: an environment is rebuilt only when pyproject.toml, the constraints or this
# script change (a stamp file records their hash).
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: scripts/venv.sh oldest|newest}"
root="${REGFRAME_VENVS:-.venvs}"

find_python() {  # the first working interpreter for version $1 (e.g. 3.10)
    local v="$1" c
    for c in "python$v" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/"python$v" \
             "/usr/local/bin/python$v" "/usr/bin/python$v"; do
        # pyenv's shims exist for every version but fail for those not selected: try it.
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

case "$name" in
    oldest)
        versions=(3.10)
        pip_args=(-c scripts/constraints-oldest.txt)
        ;;
    newest)
        versions=(3.13 3.12 3.11)
        pip_args=(--upgrade --upgrade-strategy eager)
        ;;
    *)
        echo "venv: unknown environment '$name' (oldest or newest)" >&2
        exit 2
        ;;
esac

python=""
for v in "${versions[@]}"; do
    if python="$(find_python "$v")"; then
        break
    fi
done
if [ -z "$python" ]; then
    echo "venv: no Python ${versions[*]} with venv and ensurepip found for the '$name' environment" \
         "(looked on PATH, in pyenv's versions and in /usr/bin)" >&2
    exit 1
fi

dir="$root/$name"
stamp="$dir/.regframe-stamp"
want="$( { "$python" -VV; cat pyproject.toml scripts/constraints-oldest.txt "$0"; } | sha256sum | cut -d' ' -f1)"
if [ -x "$dir/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "$dir/bin/python"
    exit 0
fi

echo "venv: building $dir with $("$python" -V) ($python)" >&2
rm -rf "$dir"
"$python" -m venv "$dir"
"$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
"$dir/bin/python" -m pip install -q --disable-pip-version-check "${pip_args[@]}" -e ".[dev]" >&2
"$dir/bin/python" -m pip check >&2 || true  # reported, not fatal: extras may pull loosely pinned tools
echo "$want" > "$stamp"
echo "$dir/bin/python"
