#!/usr/bin/env bash
# Runs the whole test suite in each supported environment (scripts/venv.sh builds them):
# `oldest` (Python 3.10, every dependency at its lower bound), then `newest`.
# One after the other: each suite starts real registries and a browser, and a second
# suite beside it on a small machine would only make both slower.
# Each environment runs the suite on one transport backend ($REGFRAME_TRANSPORT): `oldest` on
# `requests` (the path of a default install without the `fast` extra, and of `session=`),
# `newest` on libcurl (pycurl, HTTP/2; a read's jobs as greenlets on its driver thread, with
# threads only where tests say so).  tests/test_transport.py and
# tests/test_transport_backends.py (GOAWAY included) run on both backends in both
# environments.  Set REGFRAME_TRANSPORT to override.
# Usage: scripts/test-envs.sh [ENV...] [-- PYTEST ARGS]   (default: oldest newest)
set -uo pipefail
cd "$(dirname "$0")/.."

envs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#envs[@]} -eq 0 ] && envs=(oldest newest)

failed=()
for env in "${envs[@]}"; do
    python="$(scripts/venv.sh "$env")" || { failed+=("$env (environment)"); continue; }
    bin="$(dirname "$python")"
    case "$env" in oldest) backend=requests ;; *) backend=curl ;; esac
    backend="${REGFRAME_TRANSPORT:-$backend}"
    echo "== $env: $("$python" -V), pandas $("$python" -c 'import importlib.metadata as m; print(m.version("pandas"))'), transport $backend" >&2
    # The environment's bin first, so subprocesses find its `regframe` and its tools.
    if ! REGFRAME_TRANSPORT="$backend" PATH="$PWD/$bin:$PATH" "$python" -m pytest -q -p no:cacheprovider "$@"; then
        failed+=("$env")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "test-envs: failed in ${failed[*]}" >&2
    exit 1
fi
