#!/usr/bin/env bash
# Install everything the tests need (venv, pinned packages, Debian's Chromium and nginx) and run the whole suite.
# The README's test command and .ci/run both run exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium drives the browser tests (its headless shell; the full browser for benchmarks/), nginx runs
# docs/deployment.md's proxy block (tests/test_deploy.py).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromium-headless-shell >/dev/null 2>&1 || missing+=(chromium-headless-shell)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} for the tests (apt-get)..."
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .

.venv/bin/ruff check .
set +e
# Three pytest-xdist workers on this 2-core machine: the browser tests wait on paced runs, pages and servers more than
# they compute, so the cores have room for a third. Each test module stays whole on one worker (tests/conftest.py's
# scheduler). Pass -n 0 to run in one process.
.venv/bin/python -m pytest -n 3 "$@"
code=$?
set -e
# pytest's exit 5 means no test ran: that is a failure, not a pass.
[ "$code" -eq 5 ] && echo "pytest collected no tests" >&2
exit "$code"
