#!/usr/bin/env bash
# Installs what regframe's demo, tests and benchmark need on a fresh Debian machine:
# the CNCF registry, skopeo, chromium and nginx (Debian packages; nginx plays an HTTP/2
# reverse proxy that ends connections with GOAWAY) and regframe itself with its
# development extras.  Idempotent: skips what is already there.
# The test environments (.venvs/) are built by scripts/venv.sh when `make test` needs them.
set -euo pipefail
cd "$(dirname "$0")/.."

# program -> Debian package (tests/conftest.py's REQUIRED_PROGRAMS names the same ones)
need_apt=()
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing ${need_apt[*]} with apt-get" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
# pip is quick when everything is already satisfied, and always running it means
# a dependency added to pyproject.toml reaches every machine.
echo "setup: pip install -e '.[dev]'" >&2
"$PY" -m pip install -q --disable-pip-version-check -e ".[dev]"
